extension DecodedCode {
    /// The one-line JSON object `channelguard decode` prints for an accepted code:
    /// `{"ok":true,"kind":"sgtin","gtin":…,"serial":…,"ais":{…}}` or `"kind":"sscc","sscc":…`.
    public var json: String {
        var out = "{\"ok\":true,"
        switch key {
        case .item(let gtin, let serial):
            out += "\"kind\":\"sgtin\",\"gtin\":" + JSONText.quote(gtin) + ",\"serial\":" + JSONText.quote(serial)
        case .logisticUnit(let sscc):
            out += "\"kind\":\"sscc\",\"sscc\":" + JSONText.quote(sscc)
        }
        out += ",\"ais\":{"
        out += elements.map { JSONText.quote($0.ai) + ":" + JSONText.quote($0.value) }.joined(separator: ",")
        return out + "}}"
    }
}

extension CodeRejection {
    /// `{"ok":false,"reason":…,"offset":…,"message":…}`.
    public var json: String {
        "{\"ok\":false,\"reason\":" + JSONText.quote(reason.rawValue) + ",\"offset\":\(offset),\"message\":"
            + JSONText.quote(message) + "}"
    }
}

/// Minimal JSON string quoting (RFC 8259): quotes, backslashes and control characters escaped.
public enum JSONText {
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
