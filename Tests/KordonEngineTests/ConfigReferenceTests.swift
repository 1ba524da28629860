import Foundation
import Testing

@testable import KordonEngine

/// README.md's "Configuration reference" cannot drift from the code: every field `KordonConfig.load`
/// accepts is documented there, nothing else is, and every field the shipped configs use is one of them.
///
/// The convention: within the section headed `## Configuration reference` (up to the next `## `),
/// each table row whose first cell is a code span documents one field, written as its dotted path:
/// `` | `rules` | `` at the top level, `` | `kafka.idleTimeout` | ``, and `` | `kafka.alertRoutes[].topic` | ``
/// for a field of each list item.
@Suite struct ConfigReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every accepted field as a dotted path, from the code.
    static var codeFields: Set<String> {
        Set(KordonConfig.fields.flatMap { section, names in names.map { section.isEmpty ? $0 : "\(section).\($0)" } })
    }

    /// The fields README.md's configuration reference documents, each with the line it is on.
    static func documentedFields() throws -> [(field: String, line: Int)] {
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var inReference = false
        var found: [(String, Int)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("## ") {
                inReference = line == "## Configuration reference"
                continue
            }
            guard inReference, line.hasPrefix("| `") else { continue }
            let cell = line.dropFirst(3)
            guard let end = cell.firstIndex(of: "`") else { continue }
            found.append((String(cell[..<end]), index + 1))
        }
        return found
    }

    @Test func referenceDocumentsExactlyTheAcceptedFields() throws {
        let documented = try Self.documentedFields()
        #expect(!documented.isEmpty, "README.md has no `## Configuration reference` section with field rows")
        var seen: [String: Int] = [:]
        for (field, line) in documented {
            if let first = seen[field] {
                Issue.record("README.md:\(line): \(field) is documented twice (first on line \(first))")
            } else {
                seen[field] = line
            }
        }
        let names = Set(seen.keys)
        let undocumented = Self.codeFields.subtracting(names).sorted()
        let unknown = names.subtracting(Self.codeFields).sorted()
        #expect(undocumented.isEmpty, "accepted by KordonConfig.load but not in README.md: \(undocumented)")
        #expect(unknown.isEmpty, "in README.md but not accepted by KordonConfig.load: \(unknown)")
    }

    /// The fields a config file sets (comments are not YAML, so commented-out examples do not count),
    /// read with the loader's own YAML reader. Free-form mappings (`kafka.properties`) are not entered.
    static func fieldsUsed(in file: String) throws -> Set<String> {
        let path = root.appendingPathComponent(file).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let reader = ConfigReader(file: path)
        let top = try #require(reader.root(yaml: text))
        var used = Set<String>()
        func walk(_ value: YAMLValue, section: String) {
            for (name, member) in value.members() ?? [] {
                let path = section.isEmpty ? name : "\(section).\(name)"
                used.insert(path)
                if KordonConfig.fields[path] != nil {
                    walk(member, section: path)
                } else if KordonConfig.fields[path + "[]"] != nil {
                    for item in member.elements() ?? [] { walk(item, section: path + "[]") }
                }
            }
        }
        walk(top, section: "")
        #expect(reader.errors.isEmpty, "\(reader.errors)")
        return used
    }

    @Test(arguments: ["config/kordon.yaml", "config/demo.yaml"])
    func shippedConfigUsesOnlyDocumentedFields(file: String) throws {
        let documented = Set(try Self.documentedFields().map(\.field))
        let used = try Self.fieldsUsed(in: file)
        #expect(used.contains("kafka.alertRoutes[].topic"), "the walk did not reach the routes of \(file)")
        let missing = used.subtracting(documented).sorted()
        #expect(missing.isEmpty, "\(file) sets fields README.md does not document: \(missing)")
    }
}
