import KordonEvents

/// A commodity a declaration can name: HS heading, unit price and a typical lot.
struct Commodity: Sendable {
    var hs: String
    var description: String
    var usdPerKg: ClosedRange<Double>
    var lotKg: ClosedRange<Double>
    var substance: String? = nil

    /// A goods item of it as JSON around its weight and value: `{"hs":…,"weightKg":` and `,"substance":…` (or nothing).
    var json: [[UInt8]] {
        var head = JSONBytes(capacity: 256)
        head.open()
        head.member("hs", hs)
        head.member("description", description)
        head.key("weightKg")
        var tail = JSONBytes(capacity: 256)
        tail.leaveValueOut()
        tail.member("substance", substance)
        return [head.bytes, tail.bytes]
    }
}

/// Plausible freight and personal goods on the Kazakhstan–Russia border. Arms
/// (HS 93) and wood (HS 44) are left to planted incidents and near misses, so
/// background traffic never carries what a rule looks for.
enum Catalog {
    static let freight: [Commodity] = [
        Commodity(hs: "0703", description: "onions", usdPerKg: 0.2...0.45, lotKg: 8000...20000),
        Commodity(hs: "0808", description: "apples", usdPerKg: 0.5...1.1, lotKg: 6000...18000),
        Commodity(hs: "1001", description: "wheat", usdPerKg: 0.18...0.3, lotKg: 15000...25000),
        Commodity(hs: "1101", description: "wheat flour", usdPerKg: 0.3...0.5, lotKg: 10000...22000),
        Commodity(hs: "1512", description: "sunflower oil", usdPerKg: 0.9...1.4, lotKg: 8000...20000),
        Commodity(hs: "0207", description: "frozen poultry", usdPerKg: 1.6...2.6, lotKg: 8000...18000),
        Commodity(hs: "0402", description: "milk powder", usdPerKg: 2.5...3.8, lotKg: 5000...15000),
        Commodity(hs: "2523", description: "cement", usdPerKg: 0.05...0.1, lotKg: 18000...25000),
        Commodity(hs: "7208", description: "hot-rolled steel coil", usdPerKg: 0.55...0.8, lotKg: 15000...25000),
        Commodity(hs: "7601", description: "unwrought aluminium", usdPerKg: 2.2...2.7, lotKg: 10000...22000),
        Commodity(hs: "3923", description: "plastic packaging", usdPerKg: 1.5...3.0, lotKg: 2000...8000),
        Commodity(hs: "4011", description: "tyres", usdPerKg: 2.5...4.5, lotKg: 3000...9000),
        Commodity(hs: "8517", description: "mobile phones", usdPerKg: 80...300, lotKg: 200...1500),
        Commodity(hs: "8471", description: "laptops", usdPerKg: 60...200, lotKg: 200...1500),
        Commodity(hs: "8418", description: "refrigerators", usdPerKg: 4...8, lotKg: 2000...7000),
        Commodity(hs: "9403", description: "furniture", usdPerKg: 2...6, lotKg: 2000...8000),
        Commodity(hs: "6110", description: "knitwear", usdPerKg: 12...30, lotKg: 1000...5000),
        Commodity(hs: "2203", description: "beer", usdPerKg: 0.8...1.5, lotKg: 8000...18000),
        Commodity(hs: "2402", description: "cigarettes", usdPerKg: 20...45, lotKg: 1000...4000),
        Commodity(hs: "3004", description: "medicaments", usdPerKg: 20...80, lotKg: 300...2000, substance: "paracetamol"),
        Commodity(hs: "2710", description: "diesel fuel", usdPerKg: 0.6...0.9, lotKg: 15000...24000),
    ]

    /// `Commodity.json` of `freight`, then of `personal`, kept for the life of the process.
    private static let constants = ConstantStore((freight + personal).flatMap(\.json))
    static let freightJSON = freight.indices.map { (head: constants.list[2 * $0], tail: constants.list[2 * $0 + 1]) }

    /// Personal goods a car or pedestrian may declare, each well under the duty-free value.
    static let personal: [Commodity] = [
        Commodity(hs: "6204", description: "clothing", usdPerKg: 20...60, lotKg: 1...5),
        Commodity(hs: "0901", description: "coffee", usdPerKg: 8...20, lotKg: 1...5),
        Commodity(hs: "1905", description: "confectionery", usdPerKg: 4...10, lotKg: 1...8),
        Commodity(hs: "3304", description: "cosmetics", usdPerKg: 30...90, lotKg: 0.5...2),
        Commodity(hs: "8528", description: "television set", usdPerKg: 20...40, lotKg: 5...12),
        Commodity(hs: "0406", description: "cheese", usdPerKg: 6...14, lotKg: 1...6),
    ]

    static let personalJSON = personal.indices.map {
        (head: constants.list[2 * (freight.count + $0)], tail: constants.list[2 * (freight.count + $0) + 1])
    }

    /// Medicines whose substances are not on the controlled list.
    static let ordinaryMedicines = ["paracetamol", "ibuprofen", "amoxicillin", "omeprazole", "caffeine"]
    static let controlledSubstances = ["sibutramine", "tramadol", "tropicamide", "phenazepam", "pregabalin"]
    static let narcotics = ["hashish", "heroin", "cannabis", "cocaine", "mephedrone"]
    static let precursors = ["acetic anhydride", "ephedrine", "pseudoephedrine"]
    /// Goods customs look for when undeclared: category, description, HS heading.
    static let contraband: [(category: FindingCategory, description: String, hs: String)] = [
        (.tobacco, "cigarettes without excise stamps", "2402"), (.alcohol, "vodka", "2208"),
        (.fuel, "diesel in an auxiliary tank", "2710"), (.currency, "cash", "4907"), (.caviar, "sturgeon caviar", "1604"),
        (.consumerGoods, "mobile phones", "8517"), (.metal, "copper cable", "7408"),
        (.food, "meat without a veterinary certificate", "0201"), (.wildlife, "saker falcon", "0106"),
        (.fish, "sturgeon", "0302"),
    ]
}

/// Daily and weekly rhythms of traffic, as multipliers of a mode's peak rate.
enum Rhythm {
    /// By local hour: freight runs in daylight, cars peak morning and evening, night is quiet.
    static let freightByHour: [Double] = [
        0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.55, 0.8, 0.95, 1, 1, 1, 0.95, 0.95, 1, 1, 0.95, 0.85, 0.7, 0.5, 0.4, 0.3, 0.25,
        0.2,
    ]
    static let carsByHour: [Double] = [
        0.1, 0.05, 0.05, 0.05, 0.1, 0.25, 0.55, 0.9, 1, 0.85, 0.7, 0.65, 0.7, 0.7, 0.75, 0.8, 0.9, 1, 0.95, 0.75, 0.5, 0.35,
        0.25, 0.15,
    ]
    /// Monday first: freight slows at the weekend, private travel picks up.
    static let freightByWeekday: [Double] = [1, 1, 1, 1, 0.95, 0.6, 0.4]
    static let carsByWeekday: [Double] = [0.8, 0.8, 0.85, 0.9, 1.1, 1.3, 1.2]
}
