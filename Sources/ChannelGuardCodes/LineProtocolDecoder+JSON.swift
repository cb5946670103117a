extension LineProtocolDecoder.Line {
    /// The JSON object `channelguard decode --protocol line` prints for a decoded line.
    public var json: String {
        guard case .event(let event, let code) = self else { return "{\"ok\":true,\"skipped\":true}" }
        var fields = [
            "\"step\":" + JSONText.quote(event.step.rawValue),
            "\"region\":\"\(event.region)\"",
            "\"time\":" + JSONText.quote(ScanTime.format(milliseconds: event.time)),
        ]
        if event.price >= 0 {
            let cents = event.price % 100
            fields.append("\"price\":\"\(event.price / 100).\(cents < 10 ? "0" : "")\(cents)\"")
        }
        if !event.party.isEmpty {
            fields.append("\"party\":" + JSONText.quote(String(decoding: event.party, as: UTF8.self)))
        }
        if !event.device.isEmpty {
            fields.append("\"device\":" + JSONText.quote(String(decoding: event.device, as: UTF8.self)))
        }
        if event.sequence != 0 { fields.append("\"seq\":\(event.sequence)") }
        if event.latitude != .min { fields.append("\"lat\":\(Self.degrees(event.latitude))") }
        if event.longitude != .min { fields.append("\"lon\":\(Self.degrees(event.longitude))") }
        // The code's own object, with the line's fields after "ok".
        let codeJSON = code.json
        return "{\"ok\":true," + fields.joined(separator: ",") + "," + codeJSON.dropFirst("{\"ok\":true,".count)
    }

    static func degrees(_ micro: Int32) -> String {
        let sign = micro < 0 ? "-" : ""
        let magnitude = abs(Int(micro))
        let fraction = String(magnitude % 1_000_000)
        return sign + "\(magnitude / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
