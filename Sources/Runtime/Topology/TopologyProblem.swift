import Detection

/// One problem in a topology file or in what it points at (a rule file, the GeoIP database,
/// the Kafka settings): Detection's located problem (file, line, column, detail, source line
/// and caret length), so every problem Vigil prints has one look, whichever file it is in.
public typealias TopologyProblem = RuleProblem
