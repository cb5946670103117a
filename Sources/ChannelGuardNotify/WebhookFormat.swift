import ChannelGuardCodes
import Foundation

/// The message formats a subscription can receive: ChannelGuard's own JSON, or the message formats
/// of the chat robots compliance teams use, each with the key facts and a link to the incident.
///
/// A delivery's body is rendered once (``render(event:incident:incidentJSON:link:deliveryID:)``,
/// stored with the delivery) and signed at each attempt (``prepare(body:url:secret:now:deliveryID:event:)``),
/// because the signatures carry the time of sending.
public enum WebhookFormat: String, Sendable, CaseIterable, Codable {
    /// `{"event", "delivery_id", "incident", "link"}`, signed in `X-ChannelGuard-Signature`.
    case generic
    /// WeCom (企业微信) group robot: `{"msgtype": "markdown", ...}`.
    case wecom
    /// DingTalk (钉钉) robot: markdown; with a secret, `timestamp` and `sign` on the URL.
    case dingtalk
    /// Feishu/Lark (飞书) bot: an interactive card; with a secret, `timestamp` and `sign` in the body.
    case feishu

    public func render(
        event: String,
        incident: IncidentFacts,
        incidentJSON: String,
        link: String,
        deliveryID: Int64
    ) -> String {
        let title = "[\(incident.severity.uppercased())] \(incident.headline)"
        switch self {
        case .generic:
            return "{\"event\":\(JSONText.quote(event)),\"delivery_id\":\(deliveryID),\"incident\":\(incidentJSON),"
                + "\"link\":\(JSONText.quote(link))}"
        case .wecom:
            return
                "{\"msgtype\":\"markdown\",\"markdown\":{\"content\":\(JSONText.quote(markdown(event, incident, title, link)))}}"
        case .dingtalk:
            return "{\"msgtype\":\"markdown\",\"markdown\":{\"title\":\(JSONText.quote(title)),"
                + "\"text\":\(JSONText.quote(markdown(event, incident, title, link)))}}"
        case .feishu:
            let template = ["critical": "red", "high": "orange", "medium": "yellow"][incident.severity] ?? "blue"
            return "{\"msg_type\":\"interactive\",\"card\":{\"config\":{\"wide_screen_mode\":true},"
                + "\"header\":{\"template\":\"\(template)\",\"title\":{\"tag\":\"plain_text\",\"content\":\(JSONText.quote(title))}},"
                + "\"elements\":[{\"tag\":\"markdown\",\"content\":\(JSONText.quote(facts(event, incident)))},"
                + "{\"tag\":\"action\",\"actions\":[{\"tag\":\"button\",\"type\":\"primary\","
                + "\"text\":{\"tag\":\"plain_text\",\"content\":\"Open incident #\(incident.id)\"},\"url\":\(JSONText.quote(link))}]}]}}"
        }
    }

    /// The URL, body and headers of one attempt.
    public func prepare(
        body: String,
        url: String,
        secret: String,
        now: Date,
        deliveryID: Int64,
        event: String
    ) -> (url: String, body: String, headers: [(String, String)]) {
        var headers = [("Content-Type", "application/json; charset=utf-8"), ("User-Agent", "ChannelGuard-Webhooks/1")]
        switch self {
        case .generic:
            let seconds = Int64(now.timeIntervalSince1970)
            headers.append(("X-ChannelGuard-Event", event))
            headers.append(("X-ChannelGuard-Delivery", "\(deliveryID)"))
            if !secret.isEmpty {
                headers.append(
                    (
                        WebhookSignature.header,
                        WebhookSignature.sign(body: Array(body.utf8), secret: secret, timestamp: seconds)
                    )
                )
            }
            return (url, body, headers)
        case .wecom:
            return (url, body, headers)
        case .dingtalk:
            guard !secret.isEmpty else { return (url, body, headers) }
            let milliseconds = Int64(now.timeIntervalSince1970 * 1000)
            let sign = WebhookSignature.base64MAC(key: secret, message: "\(milliseconds)\n\(secret)")
            let separator = url.contains("?") ? "&" : "?"
            return (url + "\(separator)timestamp=\(milliseconds)&sign=\(Self.percentEncoded(sign))", body, headers)
        case .feishu:
            guard !secret.isEmpty, body.hasPrefix("{") else { return (url, body, headers) }
            let seconds = Int64(now.timeIntervalSince1970)
            let sign = WebhookSignature.base64MAC(key: "\(seconds)\n\(secret)", message: "")
            return (url, "{\"timestamp\":\"\(seconds)\",\"sign\":\(JSONText.quote(sign)),\(body.dropFirst())", headers)
        }
    }

    /// Whether a 2xx response's body reports success: the robots answer 200 with an error code
    /// (`errcode` for WeCom and DingTalk, `code` or `StatusCode` for Feishu) when they refuse.
    public func accepted(responseBody: [UInt8]) -> (ok: Bool, detail: String?) {
        guard self != .generic else { return (true, nil) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(responseBody)) as? [String: Any] else {
            return (false, "the robot's answer is not JSON")
        }
        for key in ["errcode", "code", "StatusCode"] {
            if let code = object[key] as? Int, code != 0 {
                let message = (object["errmsg"] ?? object["msg"] ?? object["StatusMessage"]).map { "\($0)" } ?? ""
                return (false, "\(key) \(code): \(message)")
            }
        }
        return (true, nil)
    }

    private func markdown(_ event: String, _ incident: IncidentFacts, _ title: String, _ link: String) -> String {
        "### \(title)\n" + facts(event, incident) + "\n\n[Open incident #\(incident.id)](\(link))"
    }

    private func facts(_ event: String, _ incident: IncidentFacts) -> String {
        var lines = [
            "**Event:** \(event == "incident.opened" ? "new incident" : "status now \(incident.status)")",
            "**Distributor:** " + (incident.distributor.map { "\($0.code) \($0.name ?? "")" } ?? "unknown"),
            "**Destination:** \(incident.destinationRegion.name ?? "") (\(incident.destinationRegion.code))",
            "**Units:** \(incident.units) in \(incident.alertCount) alert\(incident.alertCount == 1 ? "" : "s")",
            "**Estimated value:** ¥\(incident.estimatedValue)",
            "**Seen:** \(incident.firstSeen ?? "?") → \(incident.lastSeen ?? "?")",
        ]
        if let penalty = incident.penaltyAmount { lines.append("**Penalty:** ¥\(penalty)") }
        if let reason = incident.dismissalReason { lines.append("**Dismissed:** \(reason)") }
        return lines.joined(separator: "\n")
    }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
