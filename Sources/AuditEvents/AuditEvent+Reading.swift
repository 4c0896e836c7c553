/// Field readers for the hot path: each reads one field of a shared part in
/// place, where ``AuditEvent/user``, ``AuditEvent/object``,
/// ``AuditEvent/response`` and ``AuditEvent/authorization`` copy the whole
/// part (a retain per string inside) to answer one field. Inlinable, so a
/// rule evaluated in another module reads straight through the event's box.
extension AuditEvent {
    /// `response.code` (``ResponseStatus/code``).
    @inlinable public var responseCode: Int? { box.fields.parts.value.response.value.code }
    /// `response.grpc_code` (``ResponseStatus/grpcCode``).
    @inlinable public var responseGRPCCode: Int? { box.fields.parts.value.response.value.grpcCode }
    /// `response.status` (``ResponseStatus/status``).
    @inlinable public var responseStatus: String? { box.fields.parts.value.response.value.status }
    /// `response.reason` (``ResponseStatus/reason``).
    @inlinable public var responseReason: String? { box.fields.parts.value.response.value.reason }
    /// `response.message` (``ResponseStatus/message``).
    @inlinable public var responseMessage: String? { box.fields.parts.value.response.value.message }

    /// `user.name` (``UserInfo/name``).
    @inlinable public var userName: String? { box.fields.parts.value.user.value.name }
    /// `user.uid` (``UserInfo/uid``).
    @inlinable public var userUID: String? { box.fields.parts.value.user.value.uid }
    /// `user.groups` (``UserInfo/groups``).
    @inlinable public var userGroups: [String] { box.fields.parts.value.user.value.groups }

    /// Whether any of `user.groups` satisfies `predicate`, visiting the list in place.
    @inlinable
    public func containsUserGroup(where predicate: (String) throws -> Bool) rethrows -> Bool {
        try box.fields.parts.value.user.value.groups.contains(where: predicate)
    }

    /// Whether any source IP satisfies `predicate`, visiting the list in place.
    @inlinable
    public func containsSourceIP(where predicate: (String) throws -> Bool) rethrows -> Bool {
        try box.fields.sourceIPs.contains(where: predicate)
    }

    /// `object.resource` (``ObjectReference/resource``).
    @inlinable public var objectResource: String? { box.fields.parts.value.object.value.resource }
    /// `object.subresource`.
    @inlinable public var objectSubresource: String? { box.fields.parts.value.object.value.subresource }
    /// `object.namespace`.
    @inlinable public var objectNamespace: String? { box.fields.parts.value.object.value.namespace }
    /// `object.name`.
    @inlinable public var objectName: String? { box.fields.objectName }
    /// `object.api_group`.
    @inlinable public var objectAPIGroup: String? { box.fields.parts.value.object.value.apiGroup }
    /// `object.api_version`.
    @inlinable public var objectAPIVersion: String? { box.fields.parts.value.object.value.apiVersion }

    /// `authorization.decision` (``AuthorizationAnnotations/decision``).
    @inlinable public var authorizationDecision: String? { box.fields.parts.value.authorization.value.decision }
    /// `authorization.reason`.
    @inlinable public var authorizationReason: String? { box.fields.parts.value.authorization.value.reason }
}
