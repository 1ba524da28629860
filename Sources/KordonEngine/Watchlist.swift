import Foundation

/// A watchlist file named under `watchlists:` in the rulebook (relative to it):
///
///     plates: [000XXX00, ...]     # vehicle plates
///     docs: [X0000001, ...]       # document numbers (or the upstream pseudonyms)
///
/// Entries are exact strings. Files are read when the config loads and again
/// when the engine reloads them (see `Engine.reloadWatchlists`).
public struct Watchlist: Sendable, Equatable {
    public var name: String
    /// The path as resolved from the rulebook's directory.
    public var file: String
    public var plates: Set<String>
    public var docs: Set<String>
    /// The file's modification time when it was read; a reload skips a file whose time is unchanged.
    public var modified: Date?

    public init(name: String, file: String, plates: Set<String> = [], docs: Set<String> = [], modified: Date? = nil) {
        self.name = name
        self.file = file
        self.plates = plates
        self.docs = docs
        self.modified = modified
    }

    /// Reads the file; problems name the watchlist file, line and field.
    public static func load(name: String, file: String) throws(ConfigErrors) -> Watchlist {
        let modified = modificationDate(file)
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(file: file, line: 0, field: "", message: "cannot read the watchlist")])
        }
        let reader = ConfigReader(file: file)
        var watchlist = Watchlist(name: name, file: file, modified: modified)
        if let root = reader.root(yaml: text), let top = root.object(["plates", "docs"]) {
            watchlist.plates = top.optional("plates").flatMap(readEntries) ?? []
            watchlist.docs = top.optional("docs").flatMap(readEntries) ?? []
        }
        guard reader.errors.isEmpty else { throw ConfigErrors(errors: reader.errors) }
        return watchlist
    }

    static func modificationDate(_ file: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date
    }

    private static func readEntries(_ value: YAMLValue) -> Set<String>? {
        guard let items = value.elements() else { return nil }
        let entries = items.compactMap { $0.string() }
        return entries.count == items.count ? Set(entries) : nil
    }
}
