import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// The five seed detections of `topology/rules`, loaded by the real loader,
/// over records in each source's real shape decoded by the real decoders, run
/// through ``DetectionEngine``: assertions on the alerts themselves.
@Suite struct SeedRuleTests {
    typealias F = SeedRuleFixtures
    static let eks403 = "Amazon.EKS.Audit.Multiple403"
    static let unified = "Kubernetes.API.Multiple403.PublicIP"
    static let tor = "Kubernetes.API.IOC.Activity"
    static let scanning = "Kubernetes.Access.Scanning"
    static let interactive = "Kubernetes.Direct.Interactive.API.Request"

    // MARK: Amazon.EKS.Audit.Multiple403

    @Test func eksTenDenialsWithinThirtyMinutesRaiseOneAlertNineNone() throws {
        let rule = try F.rule(Self.eks403)
        let nine = try (0..<9).map { try F.eks(Double($0) * 3) }
        #expect(F.run(rule, nine).isEmpty)

        let ten = try (0..<10).map { try F.eks(Double($0) * 3) }
        let alerts = F.run(rule, ten)
        let alert = try #require(alerts.first)
        #expect(alerts.count == 1)
        #expect(alert.kind == .alert)
        #expect(alert.title == "[5.5.5.5] received [403] when executing [list] for resource [secrets] in ns [default] "
                + "on [prod-eks] as [bob]")
        #expect(alert.dedupKey == "prod-eks_403_5.5.5.5")
        #expect(alert.severity == .info)
        #expect(alert.mitre == ["TA0007:T1613"])
        #expect(alert.count == 10)
        #expect(alert.windowStart == F.eventTime(0) && alert.firstSeen == F.eventTime(0))
        #expect(alert.lastSeen == F.eventTime(27))
        #expect(alert.groupKey.map(\.name) == ["cluster", "source.ip"])
        #expect(alert.texts("cluster", in: \.groupKey) == ["prod-eks"])
        #expect(alert.texts("source.ip", in: \.groupKey) == ["5.5.5.5"])
        #expect(alert.texts("request.uri", in: \.output) == ["/api/v1/namespaces/default/secrets"])
        #expect(alert.texts("user_agent", in: \.output) == ["kubectl/v1.29.1"])
        #expect(alert.source?.ip == "5.5.5.5" && alert.source?.isTorExit == false)
        #expect(alert.events == (1...10).map { EventOrigin.file(path: "seed.jsonl", line: $0) })
        #expect(alert.id == Alert.id(rule: Self.eks403, groupKey: alert.groupKeyText, windowStart: F.eventTime(0)))
    }

    @Test func eksTitleSaysNoNamespaceAsPantherDoes() throws {
        let rule = try F.rule(Self.eks403)
        let events = try (0..<10).map { try F.eks(Double($0), uri: "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                                                  namespace: nil) }
        let alert = try #require(F.run(rule, events).first)
        #expect(alert.title.contains("in ns [<NO_OBJECT_NAMESPACE>] on [prod-eks]"), "\(alert.title)")
    }

    @Test func eksCountsOnlyCompletedDenialsOfAPIPaths() throws {
        let rule = try F.rule(Self.eks403)
        let good = try (0..<9).map { try F.eks(Double($0)) }
        for odd in [try F.eks(9, stage: "ResponseStarted"), try F.eks(9, uri: "/healthz"), try F.eks(9, uri: "/apis"),
                    try F.eks(9, uri: "/version"), try F.eks(9, code: 401)] {
            #expect(F.run(rule, good + [odd]).isEmpty, "\(odd.stage ?? "") \(odd.requestURI ?? "")")
        }
        #expect(F.run(rule, good + [try F.eks(9, uri: "/apis/apps/v1/deployments")]).count == 1)
    }

    @Test func eksTenDenialsTwentyMinutesApartInTwoWindowsAreNone() throws {
        let rule = try F.rule(Self.eks403)
        // 0..8 open [0, 30); the tenth at exactly 30 opens the next window.
        let events = try (0..<9).map { try F.eks(Double($0)) } + [try F.eks(30)]
        #expect(F.run(rule, events).isEmpty)
        let afterAll = try events + (31..<40).map { try F.eks(Double($0)) }
        let alerts = F.run(rule, afterAll)
        #expect(alerts.count == 1)
        #expect(alerts.first?.firstSeen == F.eventTime(30))
    }

    @Test func eksDedupSummaryCarriesTheWholePeriodsCount() throws {
        let rule = try F.rule(Self.eks403)
        let events = try (0..<15).map { try F.eks(Double($0) * 2) }
        let alerts = F.run(rule, events)
        #expect(alerts.map(\.kind) == [.alert, .summary])
        #expect(alerts.first?.count == 10 && alerts.first?.lastSeen == F.eventTime(18))
        #expect(alerts.last?.id == alerts.first?.id)
        #expect(alerts.last?.count == 15 && alerts.last?.lastSeen == F.eventTime(28))
    }

    @Test func eksTakesOnlyTheFirstSourceIP() throws {
        let rule = try F.rule(Self.eks403)
        let behindPrivate = try (0..<10).map { try F.eks(Double($0), ips: ["10.0.0.7", "5.5.5.5"]) }
        #expect(F.run(rule, behindPrivate).isEmpty)
        let viaProxy = try (0..<10).map { try F.eks(Double($0), ips: ["5.5.5.5", "10.0.0.7"]) }
        let alerts = F.run(rule, viaProxy)
        #expect(alerts.count == 1)
        #expect(alerts.first?.dedupKey == "prod-eks_403_5.5.5.5")
        #expect(alerts.first?.source?.ip == "5.5.5.5")
    }

    // MARK: Kubernetes.API.Multiple403.PublicIP

    @Test func unifiedCountsEKSAKSAndGKEDenialsOfOneIPTogether() throws {
        let rule = try F.rule(Self.unified)
        let events = try (0..<4).map { try F.eks(Double($0)) } + (4..<7).map { try F.aks(Double($0)) }
            + (7..<10).map { try F.gke(Double($0)) }
        let types: [LogType] = Array(repeating: .eksAudit, count: 4) + Array(repeating: .azureMonitorActivity, count: 3)
            + Array(repeating: .gcpAuditLog, count: 3)
        #expect(events.map(\.logType) == types)
        let alerts = F.run(rule, events)
        let alert = try #require(alerts.first)
        #expect(alerts.count == 1)
        #expect(alert.title == "Multiple 403 responses from public IP [5.5.5.5]")
        #expect(alert.dedupKey == "k8s_403_5.5.5.5")
        #expect(alert.count == 10 && alert.lastSeen == F.eventTime(9))
        #expect(alert.texts("source.ip", in: \.groupKey) == ["5.5.5.5"])
        // The output of the event that completed the alert: the GKE entry.
        #expect(alert.texts("cluster", in: \.output) == ["gke-prod"])
        #expect(alert.texts("user.name", in: \.output) == ["mallory@example.com"])
        #expect(alert.texts("verb", in: \.output) == ["list"])
        #expect(alert.texts("object.resource", in: \.output) == ["secrets"])
    }

    @Test func unifiedAKSAndGKEAloneReachTheThreshold() throws {
        let rule = try F.rule(Self.unified)
        let aks = try (0..<10).map { try F.aks(Double($0) * 2, category: $0 % 2 == 0 ? "kube-audit" : "kube-audit-admin") }
        #expect(F.run(rule, aks).count == 1)
        #expect(F.run(rule, Array(aks.prefix(9))).isEmpty)
        let gke = try (0..<10).map { try F.gke(Double($0) * 2) }
        #expect(F.run(rule, gke).count == 1)
        #expect(F.run(rule, Array(gke.prefix(9))).isEmpty)
        let unauthenticated = try (0..<10).map { try F.gke(Double($0), grpc: 16) }  // 401, not 403
        #expect(F.run(rule, unauthenticated).isEmpty)
    }

    /// Vigil's documented fix: Panther's rule fires on any GCP gRPC 7.
    @Test func unifiedIgnoresNonKubernetesGCPDenials() throws {
        let rule = try F.rule(Self.unified)
        let storage = try (0..<10).map {
            try F.gke(Double($0), service: "storage.googleapis.com", method: "storage.objects.get",
                      resource: "projects/_/buckets/acme-backups/objects/db.sql")
        }
        #expect(storage.allSatisfy { !$0.isKubernetes && $0.response.code == 403 && $0.response.grpcCode == 7 })
        #expect(F.run(rule, storage).isEmpty)
        let mixed = try (0..<9).map { try F.gke(Double($0)) } + [storage[9]]
        #expect(F.run(rule, mixed).isEmpty)
    }

    @Test func unifiedIPv6AndIPv4MappedSources() throws {
        let rule = try F.rule(Self.unified)
        let v6 = try (0..<10).map { try F.eks(Double($0), ips: ["2a01:4f8:c2c:123f::1"]) }
        let alert = try #require(F.run(rule, v6).first)
        #expect(alert.title == "Multiple 403 responses from public IP [2a01:4f8:c2c:123f::1]")
        #expect(alert.dedupKey == "k8s_403_2a01:4f8:c2c:123f::1")
        let gke6 = try (0..<10).map { try F.gke(Double($0), ip: "2a00:1450:4001:81b::200e") }
        #expect(F.run(rule, gke6).count == 1)
        let mapped = try (0..<10).map { try F.eks(Double($0), ips: ["::ffff:5.5.5.5"]) }
        #expect(F.run(rule, mapped).first?.dedupKey == "k8s_403_::ffff:5.5.5.5")
        // Group keys are the address as the log wrote it: a mapped and a plain
        // form of one address are two keys (five each raise nothing).
        let both = try (0..<10).map { try F.eks(Double($0), ips: [$0 % 2 == 0 ? "5.5.5.5" : "::ffff:5.5.5.5"]) }
        #expect(F.run(rule, both).isEmpty)
    }

    @Test func unifiedExcludesAddressesThatAreNotPublic() throws {
        let rule = try F.rule(Self.unified)
        for ip in ["10.1.2.3", "172.16.5.4", "192.168.1.1", "127.0.0.1", "100.64.0.1", "169.254.169.254", "192.0.2.10",
                   "::1", "fd00::1", "fe80::1", "2001:db8::1", "::ffff:192.168.1.1", "not-an-ip"] {
            let events = try (0..<10).map { try F.eks(Double($0), ips: [ip]) }
            #expect(F.run(rule, events).isEmpty, "\(ip)")
        }
        let gkePrivate = try (0..<10).map { try F.gke(Double($0), ip: "192.168.1.1", user: "system:anonymous",
                                                      method: "io.k8s.get", resource: "HNAP1") }
        #expect(F.run(rule, gkePrivate).isEmpty)
    }

    @Test func unifiedLateEventsWithinTheAllowedLatenessCountAsInEventOrder() throws {
        let rule = try F.rule(Self.unified)
        let minutes: [Double] = [20, 5, 14, 0, 9, 27, 3, 11, 18, 7]
        let shuffled = try minutes.map { try F.eks($0) }
        let inOrder = try minutes.sorted().map { try F.eks($0) }
        let a = try #require(F.run(rule, shuffled).first)
        let b = try #require(F.run(rule, inOrder).first)
        #expect(a.id == b.id && a.count == b.count && a.firstSeen == F.eventTime(0) && b.firstSeen == a.firstSeen)
        #expect(a.lastSeen == F.eventTime(27))
    }

    @Test func unifiedEventsBeyondTheAllowedLatenessAreCountedNotWindowed() throws {
        let rule = try F.rule(Self.unified)
        let settings = EngineSettings(allowedLateness: 3600)
        // Nine at 0..8 min, another IP two hours later moves the clock, then the tenth arrives.
        let events = try (0..<9).map { try F.eks(Double($0)) } + [try F.eks(120, ips: ["7.7.7.7"]), try F.eks(9)]
        let run = F.run(rule, events.map { F.Input(event: $0) }, settings: settings)
        #expect(run.alerts.isEmpty)
        #expect(run.statistics.lateEvents == 1)
        #expect(run.statistics.rules[Self.unified]?.lateMatches == 1)
        // With the default lateness (6 h) the same arrival order raises the alert.
        #expect(F.run(rule, events).count == 1)
    }

    // MARK: Kubernetes.API.IOC.Activity

    static let exit = "185.220.101.1"

    @Test func torDedupsSixtyMinutesAndSummarisesThePeriod() throws {
        let rule = try F.rule(Self.tor)
        let events = try [0.0, 10, 50, 65].map { try F.eks($0, ips: [Self.exit], code: 200, user: "alice") }
        let alerts = F.run(rule, F.enrich(events, tor: [Self.exit])).alerts
        #expect(alerts.map(\.kind) == [.alert, .alert, .summary])
        let first = try #require(alerts.first)
        #expect(first.title == "Kubernetes API activity from Tor exit node [185.220.101.1] by user [alice]")
        #expect(first.dedupKey == "k8s_tor_185.220.101.1")
        #expect(first.severity == .medium && first.count == 1 && first.firstSeen == F.eventTime(0))
        #expect(first.source?.isTorExit == true)
        #expect(alerts[1].firstSeen == F.eventTime(65) && alerts[1].id != first.id)
        let summary = alerts[2]
        #expect(summary.id == first.id && summary.count == 3 && summary.lastSeen == F.eventTime(50))
        #expect(summary.events.count == 3)
    }

    @Test func torFiresOnAKSAndGKEButNotOtherGCPServices() throws {
        let rule = try F.rule(Self.tor)
        let aks = try F.aks(0, ips: [Self.exit], code: 200, user: "alice@contoso.com")
        let admin = try F.aks(1, ips: [Self.exit], code: 201, category: "kube-audit-admin", verb: "create")
        let gke = try F.gke(0, ip: "204.8.96.141", grpc: nil, user: "carol@example.com")
        let storage = try F.gke(0, ip: "204.8.96.141", grpc: nil, service: "storage.googleapis.com",
                                method: "storage.objects.get", resource: "projects/_/buckets/b/objects/o")
        let aksAlerts = F.run(rule, F.enrich([aks, admin], tor: [Self.exit])).alerts
        #expect(aksAlerts.filter { $0.kind == .alert }.map(\.title)
                == ["Kubernetes API activity from Tor exit node [185.220.101.1] by user [alice@contoso.com]"])
        let gkeAlerts = F.run(rule, F.enrich([gke, storage], tor: ["204.8.96.141"])).alerts
        #expect(gkeAlerts.map(\.title) == ["Kubernetes API activity from Tor exit node [204.8.96.141] by user [carol@example.com]"])
        #expect(gkeAlerts.first?.texts("cluster", in: \.output) == ["gke-prod"])
    }

    @Test func torAsksAboutTheFirstSourceIPInAnyForm() throws {
        let rule = try F.rule(Self.tor)
        let second = try F.eks(0, ips: ["5.5.5.5", Self.exit], code: 200)
        #expect(F.run(rule, F.enrich([second], tor: [Self.exit])).alerts.isEmpty)
        let mapped = try F.eks(0, ips: ["::ffff:" + Self.exit], code: 200)
        #expect(F.run(rule, F.enrich([mapped], tor: [Self.exit])).alerts.first?.dedupKey == "k8s_tor_::ffff:185.220.101.1")
        let v6 = try F.eks(0, ips: ["2a0b:f4c2:2::1"], code: 200)
        #expect(F.run(rule, F.enrich([v6], tor: ["2a0b:f4c2:2::1"])).alerts.count == 1)
        #expect(F.run(rule, F.enrich([v6], tor: [Self.exit])).alerts.isEmpty)
    }

    @Test func torLateEarlierEventWithinLatenessStillOneAlertPerPeriod() throws {
        let rule = try F.rule(Self.tor)
        let events = try [40.0, 5, 20].map { try F.eks($0, ips: [Self.exit], code: 200) }
        let alerts = F.run(rule, F.enrich(events, tor: [Self.exit])).alerts
        // The documented exception: the alert fired at 40 stays; the late match
        // at 5 opens its own period [5, 40), and 20 falls in it.
        #expect(alerts.filter { $0.kind == .alert }.map(\.firstSeen) == [F.eventTime(40), F.eventTime(5)])
        let inOrder = F.run(rule, F.enrich(try [5.0, 20, 40].map { try F.eks($0, ips: [Self.exit], code: 200) },
                                           tor: [Self.exit])).alerts
        #expect(inOrder.filter { $0.kind == .alert }.map(\.firstSeen) == [F.eventTime(5)])
    }

    // MARK: Kubernetes.Access.Scanning

    private func geo() throws -> GeoLocator {
        try GeoLocator(configuration: .init(path: F.geoTestDatabase))
    }

    private func anonymousEKS(_ minutes: Double, ip: String = "81.2.69.142", uri: String = "/.env",
                              verb: String = "get", agent: String = "curl/8.5.0") throws -> AuditEvent {
        try F.eks(minutes, ips: [ip], uri: uri, verb: verb, user: "system:anonymous",
                  groups: ["system:unauthenticated"], agent: agent)
    }

    @Test func scanningSixInAClockHourFromALocatedIPRaiseOneAlert() throws {
        let rule = try F.rule(Self.scanning)
        let events = try [5.0, 10, 15, 20, 25].map { try anonymousEKS($0) }
            + [try anonymousEKS(59, uri: "/api/v1/secrets", verb: "list", agent: "Go-http-client/1.1")]
        let geo = try geo()
        #expect(F.run(rule, F.enrich(Array(events.prefix(5)), geo: geo)).alerts.isEmpty)
        let alerts = F.run(rule, F.enrich(events, geo: geo)).alerts
        let alert = try #require(alerts.first)
        #expect(alerts.count == 1)
        #expect(alert.title == "Kubernetes scanning from ip 81.2.69.142")
        #expect(alert.dedupKey == nil)
        #expect(alert.windowStart == F.eventTime(0) && alert.firstSeen == F.eventTime(5))
        #expect(alert.lastSeen == F.eventTime(59) && alert.count == 6)
        #expect(alert.groupKey.map(\.name) == ["source.ip", "Country", "City"])
        #expect(alert.texts("Country", in: \.groupKey) == ["United Kingdom"])
        #expect(alert.texts("City", in: \.groupKey) == ["London"])
        #expect(alert.texts("count", in: \.statistics) == ["6"])
        #expect(alert.texts("user_agent", in: \.statistics) == ["Go-http-client/1.1", "curl/8.5.0"])
        #expect(alert.texts("user", in: \.statistics) == ["system:anonymous"])
        #expect(alert.texts("groups", in: \.statistics) == ["system:unauthenticated"])
        #expect(alert.texts("verb", in: \.statistics) == ["get", "list"])
        #expect(alert.texts("request_uri", in: \.statistics) == ["/.env", "/api/v1/secrets"])
        #expect(alert.texts("response_code", in: \.statistics) == ["403"])
        #expect(alert.texts("response_reason", in: \.statistics) == ["Forbidden"])
        #expect(alert.texts("response_status", in: \.statistics) == ["Failure"])
        #expect(alert.statistics.map(\.name) == ["count", "user_agent", "user", "groups", "verb", "request_uri",
                                                 "response_code", "response_reason", "response_message",
                                                 "response_status"])
        #expect(alert.source?.ip == "81.2.69.142")
        #expect(alert.source?.countryCode == "GB" && alert.source?.country == "United Kingdom")
        #expect(alert.source?.city == "London" && alert.source?.latitude != nil)
        #expect(alert.texts("Country", in: \.output) == ["United Kingdom"])
        #expect(alert.dataVersions.geoDatabaseType == "GeoIP2-City")
        #expect(alert.json.contains(#""city_name":"London""#), "\(alert.json)")
    }

    @Test func scanningWindowsAreClockHoursNotSliding() throws {
        let rule = try F.rule(Self.scanning)
        let geo = try geo()
        let straddling = try [50.0, 53, 56, 61, 64, 67].map { try anonymousEKS($0) }
        #expect(F.run(rule, F.enrich(straddling, geo: geo)).alerts.isEmpty)
        let twoHours = try (0..<6).map { try anonymousEKS(Double($0) * 9) } + (0..<7).map { try anonymousEKS(60 + Double($0)) }
        let alerts = F.run(rule, F.enrich(twoHours, geo: geo)).alerts.sorted { $0.windowStart < $1.windowStart }
        #expect(alerts.map(\.windowStart) == [F.eventTime(0), F.eventTime(60)])
        #expect(alerts.map(\.count) == [6, 7])
    }

    @Test func scanningIPsWithoutCountryOrCityDropOut() throws {
        let rule = try F.rule(Self.scanning)
        let geo = try geo()
        // 67.43.156.1 is Bhutan without a city in the test database; 5.5.5.5 and 10.0.0.5 are unknown.
        for ip in ["67.43.156.1", "5.5.5.5", "10.0.0.5"] {
            let run = F.run(rule, F.enrich(try (0..<10).map { try anonymousEKS(Double($0), ip: ip) }, geo: geo))
            #expect(run.alerts.isEmpty, "\(ip)")
            #expect(run.statistics.rules[Self.scanning]?.missingGroupBy == 10, "\(ip)")
        }
        // Without a GeoIP database nothing has a location.
        #expect(F.run(rule, F.enrich(try (0..<10).map { try anonymousEKS(Double($0)) })).alerts.isEmpty)
    }

    @Test func scanningIPv6MultipleSourcesAndCountsPerSourceIP() throws {
        let rule = try F.rule(Self.scanning)
        let geo = try geo()
        let v6 = try (0..<6).map { try anonymousEKS(Double($0), ip: "2001:480:10::1") }
        let alert = try #require(F.run(rule, F.enrich(v6, geo: geo)).alerts.first)
        #expect(alert.title == "Kubernetes scanning from ip 2001:480:10::1")
        #expect(alert.texts("City", in: \.groupKey) == ["San Diego"])
        // Behind a proxy: the first (client) address is counted and located.
        let proxied = try (0..<6).map {
            try F.eks(Double($0), ips: ["216.160.83.56", "10.0.0.5"], uri: "/.git/config", verb: "get",
                      user: "system:anonymous", groups: ["system:unauthenticated"])
        }
        let milton = try #require(F.run(rule, F.enrich(proxied, geo: geo)).alerts.first)
        #expect(milton.texts("source.ip", in: \.groupKey) == ["216.160.83.56"])
        #expect(milton.texts("City", in: \.groupKey) == ["Milton"])
        // Three each from two located IPs: no group has more than five.
        let split = try (0..<6).map { try anonymousEKS(Double($0), ip: $0 % 2 == 0 ? "81.2.69.142" : "81.2.69.160") }
        #expect(F.run(rule, F.enrich(split, geo: geo)).alerts.isEmpty)
        // Authenticated denials are no scan.
        let authenticated = try (0..<10).map { try F.eks(Double($0), ips: ["81.2.69.142"]) }
        #expect(F.run(rule, F.enrich(authenticated, geo: geo)).alerts.isEmpty)
    }

    @Test func scanningAKSAndGKEVariants() throws {
        let rule = try F.rule(Self.scanning)
        let geo = try geo()
        let aks = try (0..<6).map {
            try F.aks(Double($0) * 5, ips: ["89.160.20.112"], user: "system:anonymous",
                      groups: ["system:unauthenticated"], uri: "/api/v1/pods", verb: "list")
        }
        let aksAlert = try #require(F.run(rule, F.enrich(aks, geo: geo)).alerts.first)
        #expect(aksAlert.texts("City", in: \.groupKey) == ["Linköping"])
        #expect(aksAlert.texts("Country", in: \.groupKey) == ["Sweden"])
        // GKE entries carry no groups: the anonymous user stands for system:unauthenticated.
        let gke = try (0..<6).map {
            try F.gke(Double($0) * 5, ip: "216.160.83.56", user: "system:anonymous", method: "io.k8s.get",
                      resource: "HNAP1")
        }
        let gkeAlert = try #require(F.run(rule, F.enrich(gke, geo: geo)).alerts.first)
        #expect(gkeAlert.title == "Kubernetes scanning from ip 216.160.83.56")
        #expect(gkeAlert.texts("groups", in: \.statistics) == [])
        #expect(gkeAlert.texts("response_code", in: \.statistics) == ["403"])
        #expect(gkeAlert.texts("response_message", in: \.statistics) == ["PERMISSION_DENIED"])
        let allowed = try (0..<6).map {
            try F.gke(Double($0), ip: "216.160.83.56", grpc: nil, user: "system:anonymous",
                      method: "io.k8s.core.v1.healthz.get", resource: "core/v1/healthz")
        }
        #expect(F.run(rule, F.enrich(allowed, geo: geo)).alerts.isEmpty)
        let otherService = try (0..<6).map {
            try F.gke(Double($0), ip: "216.160.83.56", service: "storage.googleapis.com", user: "system:anonymous",
                      method: "storage.objects.get", resource: "projects/_/buckets/b/objects/o")
        }
        #expect(F.run(rule, F.enrich(otherService, geo: geo)).alerts.isEmpty)
    }

    @Test func scanningLateEventsWithinLatenessGiveTheSameAlert() throws {
        let rule = try F.rule(Self.scanning)
        let geo = try geo()
        let minutes: [Double] = [59, 5, 30, 1, 44, 12]
        let shuffled = F.run(rule, F.enrich(try minutes.map { try anonymousEKS($0) }, geo: geo)).alerts
        let ordered = F.run(rule, F.enrich(try minutes.sorted().map { try anonymousEKS($0) }, geo: geo)).alerts
        #expect(shuffled.count == 1)
        #expect(shuffled.map(\.id) == ordered.map(\.id))
        #expect(shuffled.map(\.statistics) == ordered.map(\.statistics))
        #expect(shuffled.first?.firstSeen == F.eventTime(1) && shuffled.first?.lastSeen == F.eventTime(59))
        // Beyond the allowed lateness, the sixth is counted as late and left out.
        let late = try minutes.prefix(5).map { try anonymousEKS($0) } + [try anonymousEKS(200, ip: "81.2.69.160"),
                                                                        try anonymousEKS(12)]
        let run = F.run(rule, F.enrich(late, geo: geo), settings: EngineSettings(allowedLateness: 3600))
        #expect(run.alerts.isEmpty)
        #expect(run.statistics.lateEvents == 1)
    }

    // MARK: Kubernetes.Direct.Interactive.API.Request

    @Test func interactiveAPIClientsInAContainerAlertEveryTime() throws {
        let rule = try F.rule(Self.interactive)
        let kubectl = try F.process(0, name: "kubectl", args: ["kubectl", "get", "secrets", "-A"])
        let curl = try F.process(1, name: "curl", args: ["curl", "-k", "https://kubernetes.default.svc/api/v1/namespaces"])
        let python = try F.process(2, name: "python3",
                                   args: ["python3", "-c", "open('/var/run/secrets/kubernetes.io/serviceaccount/token')"])
        let alerts = F.run(rule, [kubectl, curl, python, kubectl])
        #expect(alerts.count == 4)
        #expect(alerts.allSatisfy { $0.kind == .alert && $0.dedupKey == nil && $0.severity == .low })
        #expect(alerts.first?.mitre == ["TA0002:T1059.004", "TA0007:T1613"])
        #expect(alerts.first?.title == "Interactive Kubernetes API request from a container [kubectl] in [b781c8e5]")
        #expect(alerts.first?.texts("process.args", in: \.output) == ["kubectl", "get", "secrets", "-A"])
        #expect(alerts.first?.texts("container.image.name", in: \.output) == ["nginx"])
        #expect(alerts.first?.texts("process.parent.name", in: \.output) == ["bash"])
        #expect(alerts[2].title == "Interactive Kubernetes API request from a container [python3] in [b781c8e5]")
        #expect(Set(alerts.map(\.id)).count == 4, "stateless alerts key on the event's origin")
    }

    @Test func interactiveNegativeCases() throws {
        let rule = try F.rule(Self.interactive)
        let get = ["kubectl", "get", "pods"]
        let negatives = [
            try F.process(0, name: "kubectl", args: get, interactive: false),
            try F.process(0, name: "kubectl", args: get, interactive: nil),
            try F.process(0, name: "kubectl", args: get, container: nil),
            try F.process(0, name: "kubectl", args: get, os: "windows"),
            try F.process(0, name: "kubectl", args: get, action: "fork"),
            try F.process(0, name: "kubectl", args: get, type: "end", action: "end"),
            try F.process(0, name: "bash", args: ["bash", "-c", "ls /tmp"]),
        ]
        for event in negatives {
            #expect(F.run(rule, [event]).isEmpty, "\(event.process.map { "\($0)" } ?? "")")
        }
        // Audit events are not process events.
        #expect(F.run(rule, [try F.eks(0)]).isEmpty)
    }
}

extension Alert {
    /// The group key as the engine hashes it into the alert id.
    var groupKeyText: String { GroupKey.text(groupKey.map { FieldValues($0.values) }) }
}
