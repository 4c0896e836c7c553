import Foundation
import KafkaIO
import Logging
import Synchronization

/// What a stage does with the batches its consumer hands over.
protocol BatchProcessor: Sendable {
    /// Processes one batch whole: registers each record with the tracker and hands what it
    /// causes to the producer.
    func process(_ batch: [ConsumerRecord]) async throws(RuntimeError)
    /// Called every tick interval, between batches or while none come (idle work).
    func tick() async throws(RuntimeError)
    /// Partitions were taken away (after their in-flight work was waited for).
    func revoked(_ partitions: [TopicPartition])
    /// Partitions were assigned; none of their records is handed over before this returns
    /// (the detect stage restores their state here).
    func assigned(_ partitions: [TopicPartition]) async
    /// Partitions are being revoked (not lost): called before their in-flight work is waited
    /// for (the detect stage writes their state to the changelog here).
    func revoking(_ partitions: [TopicPartition]) async
    /// The attempt failed: called after the producer was flushed, before the consumer leaves
    /// the group (ingest writes its gap notices here, ``RepartitionGap``).
    func failed() async
}

extension BatchProcessor {
    func assigned(_ partitions: [TopicPartition]) async {}
    func revoking(_ partitions: [TopicPartition]) async {}
    func failed() async {}
}

/// The consume → process → acknowledge → commit loop both stages share, with the
/// rebalance hooks and the bounded shutdown (see Sources/Runtime/README.md).
struct StageLoop {
    let stage: Topology.Stage
    let topology: Topology
    let topics: [String]
    let tracker: OffsetTracker
    let logger: Logger
    /// Phases for `/ready` and `/health` (``StageStatus``).
    let status: StageStatus
    /// The first delivery failure, if any (set from producer callbacks).
    let failure: @Sendable () -> RuntimeError?
    /// Clears the failure before the stage starts again.
    let recover: @Sendable () -> Void
    /// How often `tick()` runs; nil: never.
    var tickInterval: Duration?
    /// Samples the stage's bounds while it runs (`vigil_queue_depth`, pauses).
    let monitor: BackPressureMonitor

    var name: String { stage.rawValue }
    var group: String { topology.group(of: stage) }

    /// Runs the stage until the calling task is cancelled. An infrastructure failure (a record
    /// the broker would not take, a fenced producer, a failed restore, a consumer error) ends
    /// the attempt (its clients shut down as on a stop: what was acknowledged is committed,
    /// nothing else) and the stage starts again with new clients after a pause (1 s, doubling
    /// to 30 s; back to 1 s after a minute of running), its topics ensured again: a broker that
    /// was away, or came back without its topics or producer state, is waited for.
    func run(_ make: (KafkaConsumer, KafkaProducer) throws(RuntimeError) -> any BatchProcessor) async throws(RuntimeError) {
        var pause = Duration.seconds(1)
        while true {
            let started = ContinuousClock.now
            do {
                try await attempt(make)
                return
            } catch {
                if Task.isCancelled { throw error }
                if ContinuousClock.now - started > .seconds(60) { pause = .seconds(1) }
                logger.error("\(name): failed; starting again", metadata: ["error": "\(error)", "after": "\(pause)"])
                do { try await Task.sleep(for: pause) } catch { throw RuntimeError(code: .kafka, detail: "\(name): stopped") }
                pause = min(pause * 2, .seconds(30))
                recover()
                status.restarting()
                if topology.topics.create {
                    do throws(RuntimeError) {
                        try await TopicSetup.ensure(topology, logger: logger)
                    } catch {
                        logger.error("\(name): creating topics failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    /// One life of the stage: clients made, batches processed until cancelled or a failure.
    private func attempt(_ make: (KafkaConsumer, KafkaProducer) throws(RuntimeError) -> any BatchProcessor) async throws(RuntimeError) {
        let t = topology
        let producer: KafkaProducer
        let consumer: KafkaConsumer
        do {
            producer = try KafkaProducer(settings: t.producerSettings(), logger: logger)
        } catch {
            throw RuntimeError(error, "\(name) producer")
        }
        let processorRef = ProcessorReference(nil)
        let metrics = GroupMetrics(group: group, stage: name)
        let hooks = Self.hooks(name: name, tracker: tracker, logger: logger, processor: processorRef,
                               wait: min(t.limits.shutdownTimeout, t.kafka.maxPollInterval / 2),
                               status: status, metrics: metrics)
        do {
            consumer = try KafkaConsumer(settings: t.consumerSettings(for: stage), topics: topics, hooks: hooks,
                                         logger: logger, onStatistics: metrics.statistics)
        } catch {
            await producer.close(timeout: .seconds(1))
            throw RuntimeError(error, "\(name) consumer")
        }
        status.move(to: .joining)
        let processor: any BatchProcessor
        do {
            processor = try make(consumer, producer)
        } catch {
            await shutDown(consumer, producer)
            throw error
        }
        processorRef.set(processor)
        logger.info("\(name): running", metadata: ["topics": "\(topics)", "group": "\(group)"])
        let ticker = tickInterval.map { interval in
            Task.detached { [logger, name] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    do {
                        try await processor.tick()
                    } catch {
                        logger.error("\(name): tick failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
        let sampler = Task.detached { [monitor] in
            while !Task.isCancelled {
                monitor.sample(consumer, producer)
                try? await Task.sleep(for: BackPressureMonitor.interval)
            }
        }
        // The batch loop, and a watch that ends it when a failure is flagged between batches
        // (a producer callback, a restore): a stage that cannot go on stops without waiting for
        // a batch that may never come.
        let failure: RuntimeError? = await withTaskGroup(of: RuntimeError?.self) { [name, failure = self.failure] group in
            group.addTask {
                do {
                    for try await batch in consumer.batches {
                        // Shielded from cancellation: a batch handed over is registered and produced
                        // whole, so shutdown finds no half-registered record.
                        let started = ContinuousClock.now
                        status.batch(started: true)
                        let outcome = await Task { () async -> RuntimeError? in
                            do throws(RuntimeError) {
                                try await processor.process(batch)
                                return nil
                            } catch {
                                return error
                            }
                        }.value
                        monitor.sample(consumer, producer)
                        status.batch(started: false)
                        metrics.processed(in: .now - started)
                        if let error = outcome ?? failure() { return error }
                        if Task.isCancelled { break }
                    }
                    return nil
                } catch {
                    return Task.isCancelled ? nil : RuntimeError(code: .kafka, detail: "\(name) consumer: \(error)")
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    if let error = failure() { return error }
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return nil
            }
            var first: RuntimeError?
            if let done = await group.next() { first = done }
            group.cancelAll()
            for await other in group where first == nil { first = other }
            return first
        }
        ticker?.cancel()
        sampler.cancel()
        status.move(to: .stopping)
        let failed = failure ?? self.failure()
        await shutDown(consumer, producer, failed: failed == nil ? nil : processor)
        if let failed { throw failed }
    }

    /// Revoke: wait (bounded) until the partitions' in-flight records are acknowledged, so
    /// their offsets are marked done and committed when the hook returns; then forget them.
    /// A lost assignment commits nothing.
    static func hooks(name: String, tracker: OffsetTracker, logger: Logger, processor: ProcessorReference,
                      wait: Duration, status: StageStatus, metrics: GroupMetrics) -> RebalanceHooks {
        RebalanceHooks(
            onAssign: { partitions in
                logger.info("\(name): partitions assigned", metadata: ["partitions": "\(partitions.sorted())"])
                status.hook(started: true)
                status.move(to: .restoring)
                defer {
                    metrics.assigned(partitions)
                    status.hook(started: false)
                    status.move(to: .running)
                }
                // The processor is made right after the consumer; an assignment cannot come sooner
                // than a group join, but wait for it rather than skip its set-up.
                var processorNow = processor.get()
                let deadline = ContinuousClock.now + wait
                while processorNow == nil && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(5))
                    processorNow = processor.get()
                }
                await processorNow?.assigned(partitions)
            },
            onRevoke: { partitions, lost in
                status.hook(started: true)
                defer {
                    status.hook(started: false)
                    // Everything revoked (an eager rebalance): not ready until the next assignment.
                    if metrics.revoked(partitions, lost: lost) == 0 { status.move(to: .joining) }
                }
                if !lost {
                    await processor.get()?.revoking(partitions)
                    let deadline = ContinuousClock.now + wait
                    while tracker.pending(partitions) > 0 && ContinuousClock.now < deadline {
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
                tracker.drop(partitions)
                processor.get()?.revoked(partitions)
                logger.info("\(name): partitions revoked", metadata: ["partitions": "\(partitions.sorted())", "lost": "\(lost)"])
            },
            onCommit: { metrics.committed($0) })
    }

    /// Flush (acknowledgements mark offsets done), then (after a failure) the processor's
    /// ``BatchProcessor/failed()``, then close the consumer (final revoke, commit, leave the
    /// group), then close the producer; bounded by the shutdown timeout.
    func shutDown(_ consumer: KafkaConsumer, _ producer: KafkaProducer, failed processor: (any BatchProcessor)? = nil) async {
        do {
            try await producer.flush(timeout: topology.limits.shutdownTimeout)
        } catch {
            logger.warning("\(name): records still unacknowledged at shutdown; their input stays uncommitted",
                           metadata: ["error": "\(error)"])
        }
        await processor?.failed()
        await consumer.close()
        await producer.close(timeout: .seconds(1))
        logger.info("\(name): stopped", metadata: ["pending": "\(tracker.pendingTotal)"])
    }
}

/// A value set once it exists and read from other tasks: the processor (the rebalance hooks
/// are made before it), the detect workers (for statistics).
final class Reference<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func set(_ new: Value) { value.withLock { $0 = new } }
    func get() -> Value { value.withLock { $0 } }
    func update(_ body: (inout Value) -> Void) { value.withLock { body(&$0) } }
}

typealias ProcessorReference = Reference<(any BatchProcessor)?>
