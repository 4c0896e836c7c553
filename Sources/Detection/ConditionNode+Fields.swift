extension ConditionNode {
    /// The fields the condition reads, in order of first mention.
    var fields: [FieldReference] {
        var seen: Set<FieldReference> = []
        var out: [FieldReference] = []
        collectFields(into: &out, seen: &seen)
        return out
    }

    private func collectFields(into out: inout [FieldReference], seen: inout Set<FieldReference>) {
        func add(_ operand: Operand) {
            switch operand {
            case .field(let f): if seen.insert(f).inserted { out.append(f) }
            case .literal: break
            case .length(let inner): add(inner)
            }
        }
        switch self {
        case .constant: break
        case .and(let nodes), .or(let nodes): for n in nodes { n.collectFields(into: &out, seen: &seen) }
        case .not(let n): n.collectFields(into: &out, seen: &seen)
        case .presentAndNot(let o, let n): add(o); n.collectFields(into: &out, seen: &seen)
        case .compare(let l, _, let r): add(l); add(r)
        case .fieldCompare(let f, _, _, _): add(.field(f))
        case .member(let o, _, _), .string(let o, _), .present(let o, _), .truthy(let o),
             .cidrMatch(let o, _), .isPublic(let o), .isTorExit(let o): add(o)
        }
    }
}
