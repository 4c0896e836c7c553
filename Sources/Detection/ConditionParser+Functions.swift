import Enrichment

extension ConditionParser {
    /// `fn(value)` or `fn[~](value, "arg", ...)`: arguments after the first
    /// must be string literals, checked (and CIDRs parsed) here, once.
    mutating func parsePredicateCall(_ function: PredicateFunction) throws(ConditionError) -> ConditionNode {
        let nameToken = advance()
        let caseInsensitive = acceptTilde()
        if caseInsensitive && !function.allowsTilde {
            throw .at(nameToken.span, in: source, .invalidArgument,
                      "\(function.rawValue) has no case-insensitive '~' form")
        }
        try expect(.leftParen)
        guard case .operand(let subject, _) = try parseOperand() else {
            throw .at(nameToken.span, in: source, .invalidArgument, "\(function.rawValue) of null")
        }
        var arguments: [(String, ConditionToken)] = []
        while accept(.comma) {
            let token = current
            guard case .string(let s) = token.kind else {
                throw .at(token.span, in: source, .invalidArgument,
                          "\(function.rawValue) takes string arguments after the first, found \(token.display)")
            }
            _ = advance()
            arguments.append((s, token))
        }
        try expect(.rightParen)

        if function.isUnary {
            guard arguments.isEmpty else {
                throw .at(nameToken.span, in: source, .wrongArgumentCount,
                          "\(function.rawValue) takes one argument, got \(arguments.count + 1)")
            }
            return function == .isPublic ? .isPublic(subject) : .isTorExit(subject)
        }
        guard !arguments.isEmpty else {
            throw .at(nameToken.span, in: source, .wrongArgumentCount,
                      "\(function.rawValue) takes a value and at least one string")
        }
        let strings = arguments.map { caseInsensitive ? $0.0.lowercased() : $0.0 }
        switch function {
        case .cidrMatch:
            var networks: [IPNetwork] = []
            for (text, token) in arguments {
                guard let network = IPNetwork(text) ?? IPAddress(text).flatMap({ Self.hostNetwork($0) }) else {
                    throw .at(token.span, in: source, .invalidArgument, "invalid CIDR \"\(text)\"")
                }
                networks.append(network)
            }
            return .cidrMatch(subject, networks)
        case .startsWith:
            return .string(subject, .startsWith(strings, caseInsensitive: caseInsensitive))
        case .endsWith:
            return .string(subject, .endsWith(strings, caseInsensitive: caseInsensitive))
        case .stringContains:
            return .string(subject, .contains(strings, caseInsensitive: caseInsensitive))
        case .isPublic, .isTorExit:
            return .constant(false)
        }
    }

    /// A bare address in `cidrMatch` is its own /32 or /128.
    private static func hostNetwork(_ address: IPAddress) -> IPNetwork? {
        switch address {
        case .v4: return IPNetwork(address: address, prefixLength: 32)
        case .v6: return IPNetwork(address: address, prefixLength: 128)
        }
    }
}
