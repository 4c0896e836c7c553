import AuditEvents
import Testing

@Suite struct ProcessEventTests {
    static let lines = Fixtures.lines("process/vigil-ecs-process.jsonl")

    @Test func nestedECSProcessEvent() throws {
        let e = try #require(Fixtures.event(Self.lines[0]))
        let p = try #require(e.process)
        #expect(e.logType == .ecsProcess && !e.isKubernetes)
        #expect(p.name == "kubectl" && p.executable == "/usr/local/bin/kubectl")
        #expect(p.args == ["kubectl", "get", "secrets", "-A"])
        #expect(p.interactive == true)
        #expect(p.pid == 4242 && p.parentName == "bash")
        #expect(p.containerID == "5c1a7e0f9d2b" && p.containerImage == "bitnami/kubectl")
        #expect(p.hostOSType == "linux")
        #expect(p.eventTypes == ["start"] && p.eventAction == "exec" && p.eventCategories == ["process"])
        #expect(p.podNamespace == "payments" && p.podName == "debug-pod")
        #expect(e.cluster == "vigil-gke")
        #expect(e.user.name == "root")
        #expect(e.time == EventTime(parsing: "2025-04-05T06:07:08.123Z"))
        #expect(e.warnings.isEmpty)
    }

    @Test func dottedKeysInsideObjectsResolve() throws {
        let e = try #require(Fixtures.event(Self.lines[1]))
        let p = try #require(e.process)
        #expect(p.containerImage == "alpine")
        #expect(p.podName == "web-pod" && e.cluster == "vigil_cluster")
        #expect(p.interactive == nil && p.args.isEmpty)
        #expect(p.eventAction == "blocked" && p.eventKind == "alert")
        #expect(e.user.name == "www-data")
        #expect(e.time == EventTime(parsing: "0001-01-01T00:00:00Z"))
        #expect(e.time?.description == "0001-01-01T00:00:00Z")
        #expect(e.rawValue(at: try FieldPath("agent.id")) == .string("00000000-0000-4000-8000-000000000001"))
        #expect(e.rawValue(at: try FieldPath("container.image.tag")) == .array([.string("3.19")]))
    }

    @Test func fullyDottedEventWithStringBoolean() throws {
        let e = try #require(Fixtures.event(Self.lines[2]))
        let p = try #require(e.process)
        #expect(p.name == "sh" && p.args == ["sh", "-c", "id"])
        #expect(p.interactive == true && e.warnings.contains(.coercedType))
        #expect(p.eventTypes == ["start"] && p.eventCategories == ["process"])
        #expect(p.hostOSType == "linux" && p.containerID == "abcdef123456")
    }

    @Test func sharedElasticSamplesDecodeWhenPresent() throws {
        let cloudDefend = Fixtures.lines(Fixtures.sharedData + "/process/cloud_defend-alerts-sample_event.jsonl")
        guard let line = cloudDefend.first else { return }
        let e = try #require(Fixtures.event(line, format: .process))
        #expect(e.process?.name == "nginx" && e.process?.containerImage == "nginx")
        #expect(e.cluster == "my_cluster")
        // The pretty-printed form is the same event.
        let pretty = try #require(Fixtures.read(Fixtures.sharedData + "/process/cloud_defend-alerts-sample_event.json"))
        #expect(Fixtures.event(pretty)?.process == e.process)
    }
}
