import Foundation
import Testing
@testable import Detection

/// A fired window keeps its count in 4 bytes and its `lastSeen` only when its
/// references do not give it; a key's state is one word (pending matches, fired
/// windows, or a box of both). What is read back is what was put in, whichever
/// form holds it, through joins, copies and every change of form.
@Suite struct ThresholdWindowTests {
    static func reference(_ time: Int64, _ offset: Int64 = 0) -> MatchReference {
        MatchReference(time: time, origin: .kafka(topic: "eks-audit", partition: 1, offset: offset))
    }

    static func window(_ count: Int, lastSeen: Int64, references: Int, alert: Alert? = nil) -> ThresholdWindow {
        ThresholdWindow(start: 100, end: 200, count: count, lastSeen: lastSeen,
                        matches: (0..<references).map { reference(100 + Int64($0), Int64($0)) }, alert: alert)
    }

    /// Counts and last_seen that the references give and ones they do not (more matches than
    /// references, a restored last_seen of its own, none kept, a count past 4 bytes) come back as given,
    /// also through JSON.
    @Test func aWindowGivesBackItsCountAndLastSeen() throws {
        let cases: [(count: Int, lastSeen: Int64, references: Int)] = [
            (1, 100, 1), (3, 102, 3), (10, 109, 10),  // the references give both
            (11, 150, 10), (4, 102, 3), (3, 190, 3), (0, 100, 0), (2, 199, 0),
            (Int(UInt32.max) + 5, 199, 10), (Int(UInt32.max), 199, 10), (.max, .max, 1),
        ]
        for c in cases {
            let window = Self.window(c.count, lastSeen: c.lastSeen, references: c.references)
            #expect(window.count == c.count, "\(c)")
            #expect(window.lastSeen == c.lastSeen, "\(c)")
            #expect(window.matches.count == c.references, "\(c)")
            let copy = try JSONDecoder().decode(ThresholdWindow.self, from: try JSONEncoder().encode(window))
            #expect(copy == window, "\(c)")
            #expect(copy.count == c.count && copy.lastSeen == c.lastSeen, "\(c)")
        }
    }

    /// Matches joining a window past its references' cap (then count and last_seen are kept
    /// apart from them), with the alert kept across the change of form; a copy taken
    /// before is not changed by the joins (each form is a value).
    @Test func joinsPastTheCapKeepCountLastSeenAndAlert() throws {
        let rule = try EngineFixtures.rule(dedupMinutes: 60)
        let raised = EngineFixtures.run([rule], EngineFixtures.inputs([EngineFixtures.event(at: 0)])).alerts
        let alert = try #require(raised.first)
        var window = Self.window(1, lastSeen: 100, references: 1, alert: alert)
        var copies: [ThresholdWindow] = [window]
        var times: [[Int64]] = [[100]]
        for i in 1..<8 {
            // Out of order: 151, 102, 153, 104, ...; the latest so far is last_seen.
            let time: Int64 = i % 2 == 1 ? 150 + Int64(i) : 100 + Int64(i)
            window.join(Self.reference(time, Int64(i)), cap: 4)
            copies.append(window)
            times.append(times[i - 1] + [time])
        }
        for (i, copy) in copies.enumerated() {
            #expect(copy.count == i + 1)
            #expect(copy.lastSeen == times[i].max(), "\(i)")
            #expect(copy.matches.map(\.time) == Array(times[i].sorted().prefix(4)), "\(i)")
            #expect(copy.alert == alert, "\(i)")
        }
        // Under the cap again (more references kept): the references give both once more.
        var wide = copies[5]
        wide.matches = copies[5].matches + [Self.reference(153, 3), Self.reference(155, 5)]
        #expect(wide.count == 6 && wide.lastSeen == 155 && wide.alert == alert)
        wide.alert = nil
        #expect(wide.alert == nil && wide.count == 6 && wide.lastSeen == 155)
        #expect(copies[5].alert == alert && copies[5].matches.count == 4)
    }

    /// A key's state in each of its forms (nothing, pending matches, fired windows, both),
    /// changed through either list: the lists read back as set, copies stay apart.
    @Test func aKeyStateGivesBackBothListsInEveryForm() {
        let pending = [Self.reference(500), Self.reference(501)]
        let fired = [Self.window(1, lastSeen: 100, references: 1), Self.window(12, lastSeen: 150, references: 10)]
        var state = ThresholdKeyState()
        #expect(state.isEmpty && state.pending.isEmpty && state.fired.isEmpty)
        var seen: [(ThresholdKeyState, [MatchReference], [ThresholdWindow])] = []
        for step in 0..<8 {
            switch step {
            case 0: state.pending = pending
            case 1: state.windows = FiredWindows([fired[0]])
            case 2: state.pending.append(Self.reference(502))
            case 3: state.windows[0].join(Self.reference(101, 9), cap: 10)
            case 4: state.pending.removeAll()
            case 5: state.windows.insert(fired[1], at: 1)
            case 6: state.pending = pending
            default: state.fired = []
            }
            seen.append((state, state.pending, state.fired))
        }
        let expected: [(pending: Int, fired: Int)] = [(2, 0), (2, 1), (3, 1), (3, 1), (0, 1), (0, 2), (2, 2), (2, 0)]
        for (i, (copy, pending, fired)) in seen.enumerated() {
            #expect(copy.pending == pending && copy.fired == fired, "step \(i)")
            #expect(copy.pending.count == expected[i].pending && copy.fired.count == expected[i].fired, "step \(i)")
            #expect(copy.isEmpty == (pending.isEmpty && fired.isEmpty), "step \(i)")
        }
        #expect(seen[3].2[0].count == 2 && seen[2].2[0].count == 1)
        #expect(ThresholdKeyState(pending: pending, fired: seen[6].2) == seen[6].0)
        #expect(ThresholdKeyState(pending: pending, fired: fired) != seen[6].0)
    }
}
