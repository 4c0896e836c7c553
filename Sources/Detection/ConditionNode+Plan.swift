import AuditEvents

extension ConditionNode {
    /// The tree as evaluated: nested `and`/`or` flattened, their operands
    /// ordered cheapest first, and comparisons of a field with a literal
    /// turned into ``fieldCompare(_:_:_:literalFirst:)``.
    ///
    /// Every node is pure and total (no side effects, no errors), so the
    /// order in which `and`/`or` operands are tested never changes the result;
    /// only how soon a cheap operand decides it.
    func planned() -> ConditionNode {
        switch self {
        case .and(let nodes):
            let flat = nodes.map { $0.planned() }.flatMap { node -> [ConditionNode] in
                if case .and(let inner) = node { return inner }
                return [node]
            }
            return flat.count == 1 ? flat[0] : .and(Self.cheapestFirst(flat))
        case .or(let nodes):
            let flat = nodes.map { $0.planned() }.flatMap { node -> [ConditionNode] in
                if case .or(let inner) = node { return inner }
                return [node]
            }
            return flat.count == 1 ? flat[0] : .or(Self.cheapestFirst(flat))
        case .not(let node):
            return .not(node.planned())
        case .presentAndNot(let operand, let node):
            return .presentAndNot(operand, node.planned())
        case .compare(.field(let field), let op, .literal(let value)):
            return .fieldCompare(field, op, value, literalFirst: false)
        case .compare(.literal(let value), let op, .field(let field)):
            return .fieldCompare(field, op, value, literalFirst: true)
        default:
            return self
        }
    }

    /// Operands sorted by ``cost`` (stable: equal costs keep their written order).
    private static func cheapestFirst(_ nodes: [ConditionNode]) -> [ConditionNode] {
        nodes.enumerated()
            .sorted { ($0.element.cost, $0.offset) < ($1.element.cost, $1.offset) }
            .map(\.element)
    }

    /// A rough relative cost of evaluating the node once (worst case: every
    /// operand of an `and`/`or` tested).
    var cost: Int {
        switch self {
        case .constant: return 0
        case .and(let nodes), .or(let nodes): return nodes.reduce(0) { $0 + $1.cost }
        case .not(let node): return node.cost
        case .presentAndNot(let operand, let node): return operand.cost + node.cost
        case .compare(let lhs, _, let rhs): return lhs.cost + rhs.cost + 2
        case .fieldCompare(let field, _, _, _): return Self.readCost(field) + 1
        case .member(let operand, _, let ci): return operand.cost + (ci ? 4 : 2)
        case .string(let operand, let test): return operand.cost + test.cost
        case .present(let operand, _), .truthy(let operand): return operand.cost
        case .cidrMatch(let operand, let networks): return operand.cost + 10 + networks.count
        case .isPublic(let operand): return operand.cost + 10
        case .isTorExit(let operand): return operand.cost + 6
        }
    }

    /// What reading a field costs: event fields held directly (and the
    /// response codes ``AuditEventContext`` reads once) are cheapest, then the
    /// shared parts (request line, response, user, object), lists, and raw
    /// JSON paths, which walk the document.
    static func readCost(_ field: FieldReference) -> Int {
        if field.geo != nil { return 2 }
        guard let normalized = field.normalized else { return 20 }
        switch normalized {
        case .logType, .kubernetes, .cluster, .sourceIP, .auditID, .responseCode, .responseGRPCCode: return 1
        case .verb, .stage, .requestURI, .userAgent, .level, .responseStatus, .responseReason, .responseMessage, .sourceIPs:
            return 2
        case .userGroups, .processArgs, .eventType, .eventCategory, .warnings: return 4
        case .time: return 6
        default: return 3  // a string of the user, object, authorization or process part
        }
    }
}

extension ConditionNode.Operand {
    var cost: Int {
        switch self {
        case .field(let field): return ConditionNode.readCost(field)
        case .literal: return 0
        case .length(let inner): return inner.cost + 2
        }
    }
}

extension ConditionNode.StringTest {
    var cost: Int {
        switch self {
        case .like(let patterns): return 2 + patterns.count * (patterns.contains { $0.caseInsensitive } ? 4 : 2)
        case .startsWith(let s, let ci), .endsWith(let s, let ci), .contains(let s, let ci):
            return 2 + s.count * 2 + (ci ? 4 : 0)
        }
    }
}
