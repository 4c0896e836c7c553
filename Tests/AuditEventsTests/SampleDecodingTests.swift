import AuditEvents
import Testing

/// Every sample line decodes, in auto mode and with its configured format.
@Suite struct SampleDecodingTests {
    static let folders: [(folder: String, format: SourceFormat)] = [
        ("eks", .eks), ("aks", .aks), ("gke", .gke), ("raw-k8s", .kubernetes), ("process", .process),
    ]

    @Test(arguments: folders.map(\.folder))
    func everyFixtureLineYieldsOnlyExpectedOutcomes(folder: String) throws {
        let files = Fixtures.files(in: folder, suffix: ".jsonl")
        #expect(!files.isEmpty)
        let format = try #require(Self.folders.first { $0.folder == folder }?.format)
        for file in files {
            let lines = Fixtures.lines(file)
            #expect(!lines.isEmpty, "\(file) is empty")
            for (n, line) in lines.enumerated() {
                for mode in [SourceFormat.auto, format] {
                    let decoder = try AuditRecordDecoder(format: mode)
                    let outcomes = decoder.decode(line)
                    #expect(!outcomes.isEmpty)
                    for outcome in outcomes {
                        switch outcome {
                        case .decoded(let event):
                            #expect(!event.jsonLine().isEmpty)
                        case .skipped(let issue):
                            // Only the batch fixtures hold records that are skipped on purpose.
                            #expect([.controlMessage, .notKubernetesCategory].contains(issue.reason),
                                    "\(file):\(n + 1) \(mode): \(issue)")
                        case .deadLetter(let issue):
                            Issue.record("\(file):\(n + 1) \(mode) dead-lettered: \(issue)")
                        }
                    }
                }
            }
        }
    }

    @Test func autoDetectionFindsTheLogTypeOfEachFolder() throws {
        let expected: [(String, Set<LogType>)] = [
            ("eks", [.eksAudit, .kubernetesAudit]), ("aks", [.azureMonitorActivity]),
            ("gke", [.gcpAuditLog]), ("raw-k8s", [.kubernetesAudit]), ("process", [.ecsProcess]),
        ]
        let decoder = try AuditRecordDecoder()
        for (folder, types) in expected {
            for file in Fixtures.files(in: folder, suffix: ".jsonl") {
                for line in Fixtures.lines(file) {
                    for event in decoder.decode(line).compactMap(\.event) {
                        #expect(types.contains(event.logType), "\(file): \(event.logType)")
                    }
                }
            }
        }
    }

    @Test func pantherEKSEventsWithPantherLogTypeAreEKS() throws {
        let decoder = try AuditRecordDecoder()
        var eks = 0
        for line in Fixtures.lines("eks/panther-eks-audit-tests.jsonl") {
            let event = try #require(decoder.decode(line).first?.event)
            if event.raw.value(at: "p_log_type") == .string("Amazon.EKS.Audit") {
                #expect(event.logType == .eksAudit)
                eks += 1
            }
        }
        #expect(eks == 180)
    }

    @Test func configuredEKSFormatMakesEveryPlainEventEKS() throws {
        let decoder = try AuditRecordDecoder(format: .eks)
        for line in Fixtures.lines("eks/panther-eks-audit-tests.jsonl") {
            #expect(decoder.decode(line).first?.event?.logType == .eksAudit)
        }
    }

    /// The originals in ../shared/data (including the Elastic-licensed ones we
    /// do not copy) decode too, when that folder is present.
    @Test func sharedSampleStoreDecodesWhenPresent() throws {
        let root = Fixtures.sharedData
        let decoder = try AuditRecordDecoder()
        var decoded = 0
        for folder in ["audit/eks", "audit/aks", "audit/gke", "audit/raw-k8s", "process"] {
            for file in Fixtures.files(in: root + "/" + folder, suffix: ".jsonl") {
                for line in Fixtures.lines(file) {
                    let outcomes = decoder.decode(line)
                    #expect(outcomes.count == 1, "\(file)")
                    if outcomes.first?.event != nil { decoded += 1 } else {
                        Issue.record("\(file): \(String(describing: outcomes.first?.issue))")
                    }
                }
            }
        }
        if decoded > 0 { #expect(decoded == 187 + 38 + 53 + 54 + 2) }
    }
}
