/// Enrichment: IP classification, GeoIP (libmaxminddb) and the Tor exit-node set.
/// The only module that imports CMaxMindDB.
public enum Enrichment {}
