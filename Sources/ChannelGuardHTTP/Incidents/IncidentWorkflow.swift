/// The incident workflow as a pure state machine: open → investigating → confirmed (with a
/// penalty) or dismissed (with a reason). An open incident may be dismissed at once, an
/// investigation may go back to open, and a dismissed incident may be reopened; a confirmed one is
/// final. ``transition(from:to:penalty:reason:)`` says what to store, or why not.
public enum IncidentWorkflow {
    public enum Status: String, Sendable, CaseIterable, Codable {
        case open, investigating, confirmed, dismissed
    }

    /// A change to store: the new status and the fields it sets.
    public struct Change: Sendable, Equatable {
        public var from: Status
        public var to: Status
        /// Set when confirming (in yuan, two decimals as text).
        public var penalty: String?
        /// Set when dismissing.
        public var dismissalReason: String?

        public init(from: Status, to: Status, penalty: String?, dismissalReason: String?) {
            self.from = from
            self.to = to
            self.penalty = penalty
            self.dismissalReason = dismissalReason
        }
    }

    /// Why a transition is refused.
    public enum Refusal: Error, Sendable, Equatable {
        case notAllowed(from: Status, to: Status)
        case penaltyRequired
        case penaltyInvalid(String)
        case reasonRequired
        /// A penalty or reason given for a step that takes none.
        case unexpected(field: String)

        public var message: String {
            switch self {
            case .notAllowed(let from, let to):
                let next = IncidentWorkflow.next(from).map(\.rawValue)
                return "An incident cannot go from \(from.rawValue) to \(to.rawValue)"
                    + (next.isEmpty
                        ? "; \(from.rawValue) is final."
                        : "; from \(from.rawValue) it may go to \(next.joined(separator: ", ")).")
            case .penaltyRequired: return "Confirming an incident needs penalty_amount (yuan, e.g. \"5000.00\")."
            case .penaltyInvalid(let text):
                return "penalty_amount must be a non-negative amount with at most two decimals, not \(text)."
            case .reasonRequired: return "Dismissing an incident needs a reason."
            case .unexpected(let field):
                return "\(field) is only given when confirming (penalty_amount) or dismissing (reason)."
            }
        }

        public var field: String? {
            switch self {
            case .notAllowed: return "to"
            case .penaltyRequired, .penaltyInvalid: return "penalty_amount"
            case .reasonRequired: return "reason"
            case .unexpected(let field): return field
            }
        }
    }

    /// The statuses an incident may move to from `status`.
    public static func next(_ status: Status) -> [Status] {
        switch status {
        case .open: return [.investigating, .dismissed]
        case .investigating: return [.confirmed, .dismissed, .open]
        case .dismissed: return [.open]
        case .confirmed: return []
        }
    }

    public static func transition(
        from: Status,
        to: Status,
        penalty: String?,
        reason: String?
    ) -> Result<Change, Refusal> {
        guard next(from).contains(to) else { return .failure(.notAllowed(from: from, to: to)) }
        let reason = reason.flatMap { $0.trimmingSpaces.isEmpty ? nil : $0.trimmingSpaces }
        switch to {
        case .confirmed:
            guard let penalty else { return .failure(.penaltyRequired) }
            guard isAmount(penalty) else { return .failure(.penaltyInvalid(penalty)) }
            if reason != nil { return .failure(.unexpected(field: "reason")) }
            return .success(Change(from: from, to: to, penalty: penalty, dismissalReason: nil))
        case .dismissed:
            guard let reason else { return .failure(.reasonRequired) }
            if penalty != nil { return .failure(.unexpected(field: "penalty_amount")) }
            return .success(Change(from: from, to: to, penalty: nil, dismissalReason: reason))
        case .open, .investigating:
            if penalty != nil { return .failure(.unexpected(field: "penalty_amount")) }
            if reason != nil { return .failure(.unexpected(field: "reason")) }
            return .success(Change(from: from, to: to, penalty: nil, dismissalReason: nil))
        }
    }

    /// A non-negative amount with at most two decimals and at most 12 integer digits.
    static func isAmount(_ text: String) -> Bool {
        text.wholeMatch(of: /[0-9]{1,12}(\.[0-9]{1,2})?/) != nil
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first?.isWhitespace == true { scalars.removeFirst() }
        while scalars.last?.isWhitespace == true { scalars.removeLast() }
        return String(scalars)
    }
}
