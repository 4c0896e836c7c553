import AuditEvents

extension Alert {
    /// One JSON line (no newline), keys in a fixed order:
    /// `alert_id, kind, rule_id, title, severity, mitre, runbook, dedup_key,
    /// window_start, first_seen, last_seen, count, group_key, source, output,
    /// statistics, events, events_omitted, data_versions`. Times are RFC 3339
    /// UTC; a field with one value is written as a scalar, several as an array.
    public var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("alert_id"); w.string(id)
        w.key("kind"); w.string(kind.rawValue)
        w.key("rule_id"); w.string(ruleID)
        w.key("title"); w.string(title)
        w.key("severity"); w.string(severity.rawValue)
        w.key("mitre"); w.beginArray(); for tag in mitre { w.string(tag) }; w.endArray()
        w.key("runbook"); w.string(runbook)
        w.key("dedup_key"); if let dedupKey { w.string(dedupKey) } else { w.null() }
        w.key("window_start"); w.string(windowStart.description)
        w.key("first_seen"); w.string(firstSeen.description)
        w.key("last_seen"); w.string(lastSeen.description)
        w.key("count"); w.int(Int64(count))
        w.key("group_key"); Self.write(groupKey, to: &w)
        w.key("source")
        if let source {
            w.beginObject()
            w.key("ip"); w.string(source.ip)
            w.key("tor_exit"); w.bool(source.isTorExit)
            w.key("geo")
            w.beginObject()
            Self.optional("country_name", source.country, &w)
            Self.optional("country_iso_code", source.countryCode, &w)
            Self.optional("region_name", source.region, &w)
            Self.optional("city_name", source.city, &w)
            if let lat = source.latitude, let lon = source.longitude {
                w.key("location"); w.beginObject()
                w.key("lat"); w.value(.double(lat))
                w.key("lon"); w.value(.double(lon))
                w.endObject()
            }
            w.endObject()
            w.endObject()
        } else {
            w.null()
        }
        w.key("output"); Self.write(output, to: &w)
        w.key("statistics"); Self.write(statistics, to: &w)
        w.key("events"); w.beginArray()
        for origin in events {
            w.beginObject()
            switch origin {
            case .kafka(let topic, let partition, let offset):
                w.key("topic"); w.string(topic)
                w.key("partition"); w.int(Int64(partition))
                w.key("offset"); w.int(offset)
            case .file(let path, let line):
                w.key("file"); w.string(path)
                w.key("line"); w.int(Int64(line))
            }
            w.endObject()
        }
        w.endArray()
        w.key("events_omitted"); w.int(Int64(eventsOmitted))
        w.key("data_versions"); w.beginObject()
        w.key("geoip_database"); if let t = dataVersions.geoDatabaseType { w.string(t) } else { w.null() }
        w.key("geoip_build_epoch"); if let e = dataVersions.geoBuildEpoch { w.int(Int64(clamping: e)) } else { w.null() }
        w.key("tor_list_time")
        if let t = dataVersions.torListTime { w.string(EventTime(seconds: t).description) } else { w.null() }
        w.endObject()
        w.endObject()
        return w.text
    }

    private static func optional(_ key: String, _ value: String?, _ w: inout JSONWriter) {
        guard let value else { return }
        w.key(key)
        w.string(value)
    }

    private static func write(_ fields: [Field], to w: inout JSONWriter) {
        w.beginObject()
        for field in fields {
            w.key(field.name)
            switch field.values.count {
            case 0: w.null()
            case 1: w.value(field.values[0].jsonValue)
            default: w.value(.array(field.values.map(\.jsonValue)))
            }
        }
        w.endObject()
    }
}
