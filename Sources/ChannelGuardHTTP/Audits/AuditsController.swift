import ChannelGuardReports
import Foundation
import Hummingbird
import PostgresNIO

/// `GET /v1/audits/territory`: a territory audit as JSON, CSV or HTML (`format=` or `Accept`).
/// A distributor account audits its own subtree only.
struct AuditsController {
    let client: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("audits/territory", use: territory)
    }

    func territory(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.caller()
        let query = try QueryReader(request, allowed: ["from", "to", "distributor", "region", "format"])
        let format = try query.format(request, allowed: ["json", "csv", "html"])
        let now = Date()
        let to = try query.date("to") ?? now
        let from = try query.date("from") ?? to.addingTimeInterval(-30 * 86_400)
        guard from < to else {
            throw APIError(.invalidParameter, "from must be before to.", parameter: "from")
        }
        guard to.timeIntervalSince(from) <= 366 * 86_400 else {
            throw APIError(.invalidParameter, "An audit covers at most 366 days.", parameter: "to")
        }
        let distributor = try query.int64("distributor")
        try await Scope.check(
            distributor,
            of: principal,
            parameter: "distributor",
            client: client,
            logger: context.logger
        )
        let report = try await TerritoryAudit(client: client).run(
            .init(
                from: from,
                to: to,
                distributor: distributor,
                regionPrefix: try query.regionPrefix("region"),
                scope: principal.scope
            ),
            logger: context.logger
        )
        let (body, type) =
            switch format {
            case "csv": (report.csv(), "text/csv; charset=utf-8")
            case "html": (report.html(), "text/html; charset=utf-8")
            default: (try report.json(), "application/json; charset=utf-8")
            }
        var headers: HTTPFields = [.contentType: type]
        if format != "json" {
            let name = "territory-audit-\(report.period.from.prefix(10))-\(report.period.to.prefix(10)).\(format)"
            headers[.contentDisposition] = "inline; filename=\"\(name)\""
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
