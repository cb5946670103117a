import Foundation
import Yams

/// Checks real responses against `docs/openapi.yaml`: the operation must be documented with the
/// status, and a JSON body must satisfy the response schema (the JSON Schema subset the document
/// uses: $ref, allOf, type — with "null" —, properties, required, additionalProperties: false,
/// items, enum, pattern, minimum, maximum).
struct OpenAPIValidator: Sendable {
    let document: [String: any Sendable]

    static let shared: OpenAPIValidator = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let loaded = (try? Yams.load(yaml: text)) as? [String: Any] ?? [:]
        return OpenAPIValidator(document: Self.sendable(loaded) as? [String: any Sendable] ?? [:])
    }()

    static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let dictionary as [String: Any]: return dictionary.mapValues { sendable($0) } as [String: any Sendable]
        case let array as [Any]: return array.map { sendable($0) } as [any Sendable]
        case let string as String: return string
        case let bool as Bool: return bool
        case let int as Int: return int
        case let double as Double: return double
        default: return "\(value)"
        }
    }

    /// The errors of a response (empty: it conforms).
    func check(method: String, path: String, status: Int, contentType: String?, body: Data) -> [String] {
        guard let paths = document["paths"] as? [String: any Sendable],
            let (template, operations) = paths.filter({ Self.matches(template: $0.key, path: path) })
                .max(by: { $0.key.filter { $0 == "{" }.count > $1.key.filter { $0 == "{" }.count }),
            let operation = (operations as? [String: any Sendable])?[method.lowercased()] as? [String: any Sendable]
        else { return ["\(method) \(path) is not in docs/openapi.yaml"] }
        guard let responses = operation["responses"] as? [String: any Sendable],
            var response = responses["\(status)"] as? [String: any Sendable]
        else { return ["\(method) \(template) does not document status \(status)"] }
        if let reference = response["$ref"] as? String, let resolved = resolve(reference) { response = resolved }
        guard let type = contentType?.split(separator: ";").first.map(String.init), !body.isEmpty else { return [] }
        guard let content = response["content"] as? [String: any Sendable],
            let media = content[type] as? [String: any Sendable]
        else { return ["\(method) \(template) \(status) does not document \(type)"] }
        guard type == "application/json", let schema = media["schema"] as? [String: any Sendable] else { return [] }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            return ["\(method) \(template) \(status): the body is not JSON"]
        }
        return validate(value, schema, at: "$")
    }

    static func matches(template: String, path: String) -> Bool {
        let left = template.split(separator: "/")
        let right = path.split(separator: "?")[0].split(separator: "/")
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }

    func resolve(_ reference: String) -> [String: any Sendable]? {
        var node: (any Sendable)? = document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = (node as? [String: any Sendable])?[String(part)]
        }
        return node as? [String: any Sendable]
    }

    func validate(_ value: JSONValue, _ schema: [String: any Sendable], at path: String) -> [String] {
        if let reference = schema["$ref"] as? String {
            guard let resolved = resolve(reference) else { return ["\(path): unresolved \(reference)"] }
            return validate(value, resolved, at: path)
        }
        var errors: [String] = []
        if let all = schema["allOf"] as? [any Sendable] {
            for part in all.compactMap({ $0 as? [String: any Sendable] }) {
                errors += validate(value, part, at: path)
            }
        }
        let types: [String]? =
            (schema["type"] as? String).map { [$0] }
            ?? (schema["type"] as? [any Sendable])?.compactMap { $0 as? String }
        if let types, !types.contains(where: value.isType) {
            return errors + ["\(path): \(value.brief) is not \(types.joined(separator: " or "))"]
        }
        if let allowed = schema["enum"] as? [any Sendable], case .string(let string) = value,
            !allowed.contains(where: { "\($0)" == string })
        {
            errors.append("\(path): \(string) is not one of \(allowed.map { "\($0)" })")
        }
        if let pattern = schema["pattern"] as? String, case .string(let string) = value,
            string.range(of: pattern, options: .regularExpression) == nil
        {
            errors.append("\(path): \(string) does not match \(pattern)")
        }
        if case .number(let number) = value {
            if let minimum = schema["minimum"] as? Int, number < Double(minimum) {
                errors.append("\(path): \(number) < \(minimum)")
            }
            if let maximum = schema["maximum"] as? Int, number > Double(maximum) {
                errors.append("\(path): \(number) > \(maximum)")
            }
        }
        if case .object(let object) = value {
            let properties = schema["properties"] as? [String: any Sendable] ?? [:]
            for name in (schema["required"] as? [any Sendable])?.compactMap({ $0 as? String }) ?? []
            where object[name] == nil {
                errors.append("\(path): lacks required \(name)")
            }
            if schema["additionalProperties"] as? Bool == false {
                for name in object.keys.sorted() where properties[name] == nil {
                    errors.append("\(path): \(name) is not documented")
                }
            }
            for (name, property) in properties {
                if let child = object[name], let childSchema = property as? [String: any Sendable] {
                    errors += validate(child, childSchema, at: "\(path).\(name)")
                }
            }
        }
        if case .array(let array) = value, let items = schema["items"] as? [String: any Sendable] {
            for (index, item) in array.enumerated() { errors += validate(item, items, at: "\(path)[\(index)]") }
        }
        return errors
    }
}

/// A JSON value, decoded strictly (a boolean is never a number).
enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    func isType(_ type: String) -> Bool {
        switch (self, type) {
        case (.null, "null"), (.bool, "boolean"), (.number, "number"), (.string, "string"), (.array, "array"),
            (.object, "object"):
            return true
        case (.number(let value), "integer"): return value.rounded() == value
        default: return false
        }
    }

    var brief: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .number(let value): return "\(value)"
        case .string(let value): return "\"\(value.prefix(40))\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var int: Int? { if case .number(let value) = self { Int(exactly: value) } else { nil } }
    var int64: Int64? { if case .number(let value) = self { Int64(exactly: value) } else { nil } }
    var double: Double? { if case .number(let value) = self { value } else { nil } }
    var array: [JSONValue] { if case .array(let value) = self { value } else { [] } }
}
