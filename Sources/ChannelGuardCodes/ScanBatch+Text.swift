extension ScanBatch {
    /// Event `index` as a protocol line (docs/protocol.md): what replay prints, and what a gateway
    /// could send again. Times are Unix milliseconds; codes are bracketed element strings.
    public func line(at index: Int) -> String {
        var fields = [steps[index].rawValue, String(regions[index]), String(times[index]), code(at: index)]
        let price = prices[index]
        if price >= 0 { fields.append("price=\(price / 100).\(price % 100 < 10 ? "0" : "")\(price % 100)") }
        let party = string(parties[index])
        if !party.isEmpty { fields.append("party=\(party)") }
        let device = string(devices[index])
        if !device.isEmpty { fields.append("device=\(device)") }
        if sequences[index] != 0 { fields.append("seq=\(sequences[index])") }
        if latitudes[index] != .min, longitudes[index] != .min {
            fields.append("lat=\(LineProtocolDecoder.Line.degrees(latitudes[index]))")
            fields.append("lon=\(LineProtocolDecoder.Line.degrees(longitudes[index]))")
        }
        return fields.joined(separator: " ")
    }

    /// Event `index` as one JSON object.
    public func json(at index: Int, extra: [(String, String)] = []) -> String {
        var fields = extra.map { "\(JSONText.quote($0.0)):\($0.1)" }
        fields.append("\"step\":\"\(steps[index].rawValue)\"")
        fields.append("\"region\":\"\(regions[index])\"")
        fields.append("\"time\":" + JSONText.quote(ScanTime.format(milliseconds: times[index])))
        switch kinds[index] {
        case .item:
            fields.append("\"gtin\":\"\(Self.padded(keys[index], 14))\"")
            fields.append("\"serial\":" + JSONText.quote(string(serials[index])))
        case .logisticUnit:
            fields.append("\"sscc\":\"\(Self.padded(keys[index], 18))\"")
        }
        if prices[index] >= 0 { fields.append("\"price_fen\":\(prices[index])") }
        let party = string(parties[index])
        if !party.isEmpty { fields.append("\"party\":" + JSONText.quote(party)) }
        let device = string(devices[index])
        if !device.isEmpty { fields.append("\"device\":" + JSONText.quote(device)) }
        if sequences[index] != 0 { fields.append("\"seq\":\(sequences[index])") }
        if latitudes[index] != .min { fields.append("\"lat\":\(LineProtocolDecoder.Line.degrees(latitudes[index]))") }
        if longitudes[index] != .min { fields.append("\"lon\":\(LineProtocolDecoder.Line.degrees(longitudes[index]))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The event's code as a bracketed element string.
    public func code(at index: Int) -> String {
        switch kinds[index] {
        case .item: "(01)\(Self.padded(keys[index], 14))(21)\(string(serials[index]))"
        case .logisticUnit: "(00)\(Self.padded(keys[index], 18))"
        }
    }

    /// A GTIN-14 or SSCC-18 number with its leading zeros.
    public static func padded(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
