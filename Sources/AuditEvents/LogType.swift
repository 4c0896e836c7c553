/// Which log an event came from; the raw values are the names rules match on
/// (Panther's log type names where Panther has one).
public enum LogType: String, Sendable, Hashable, CaseIterable {
    case eksAudit = "Amazon.EKS.Audit"
    case azureMonitorActivity = "Azure.MonitorActivity"
    case gcpAuditLog = "GCP.AuditLog"
    /// A plain `audit.k8s.io` Event from a self-managed cluster.
    case kubernetesAudit = "Kubernetes.Audit"
    /// An Elastic Common Schema process event (Defend for Containers shape).
    case ecsProcess = "ECS.Process"
}

/// What a topic carries: the decoder chosen per topic by configuration, or
/// `auto` to detect the shape of each record.
public enum SourceFormat: String, Sendable, Hashable, CaseIterable {
    case auto
    case eks
    case aks
    case gke
    case kubernetes
    case process
}

extension LogType {
    /// The decoder format that reads this log type.
    public var sourceFormat: SourceFormat {
        switch self {
        case .eksAudit: return .eks
        case .azureMonitorActivity: return .aks
        case .gcpAuditLog: return .gke
        case .kubernetesAudit: return .kubernetes
        case .ecsProcess: return .process
        }
    }
}
