extension DecodedCode {
    /// The one-line JSON object `channelguard decode` prints for an accepted code:
    /// `{"ok":true,"kind":"sgtin","gtin":…,"serial":…,"ais":{…}}` or `"kind":"sscc","sscc":…`.
    public var json: String {
        var writer = JSONWriter()
        writeJSON(into: &writer)
        return writer.text
    }

    /// Appends ``json`` to `writer`.
    public func writeJSON(into writer: inout JSONWriter) {
        switch key {
        case .item(let gtin, let serial):
            writer.raw("{\"ok\":true,\"kind\":\"sgtin\",\"gtin\":")
            writer.string(gtin)
            writer.raw(",\"serial\":")
            writer.string(serial)
        case .logisticUnit(let sscc):
            writer.raw("{\"ok\":true,\"kind\":\"sscc\",\"sscc\":")
            writer.string(sscc)
        }
        writer.raw(",\"ais\":{")
        for (position, element) in elements.enumerated() {
            if position > 0 { writer.raw(",") }
            writer.string(element.ai)
            writer.raw(":")
            writer.string(element.value)
        }
        writer.raw("}}")
    }
}

extension CodeRejection {
    /// `{"ok":false,"reason":…,"offset":…,"message":…}`.
    public var json: String {
        var writer = JSONWriter()
        writeJSON(into: &writer)
        return writer.text
    }

    /// Appends ``json`` to `writer`.
    public func writeJSON(into writer: inout JSONWriter) {
        writer.raw("{\"ok\":false,\"reason\":")
        writer.string(reason.rawValue)
        writer.raw(",\"offset\":")
        writer.number(offset)
        writer.raw(",\"message\":")
        writer.string(message)
        writer.raw("}")
    }
}

/// JSON string quoting (RFC 8259): quotes, backslashes and control characters escaped, by
/// ``JSONWriter``.
public enum JSONText {
    public static func quote(_ text: String) -> String {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        return writer.text
    }
}
