/// PostgreSQL array literals, for passing many values as one text parameter (`$1::text[]`).
public enum PostgresArrayLiteral {
    /// `{"a","b\"c",NULL}`: every element quoted, `"` and `\` escaped, `nil` as NULL.
    public static func text(_ values: some Sequence<String?>) -> String {
        var out = "{"
        var first = true
        for value in values {
            if !first { out += "," }
            first = false
            guard let value else {
                out += "NULL"
                continue
            }
            out += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { out += "\\" }
                out.unicodeScalars.append(character)
            }
            out += "\""
        }
        return out + "}"
    }
}
