import KordonEvents
import Testing

/// RFC 8259 strictness and hostile input: every case is a rejection with an exact reason, never a crash.
@Suite struct StrictnessTests {
    /// A valid vessel event, short enough to count bytes by eye.
    let valid = #"{"v":1,"id":"a","kind":"vessel","time":"2026-05-03T04:00:00Z","vessel":"V","position":{"lat":1,"lon":2}}"#

    /// `valid` with `old` replaced by `new`.
    private func edited(_ old: String, _ new: String) -> String {
        valid.replacing(old, with: new, maxReplacements: 1)
    }

    /// The byte offset of the first `needle` in `text`.
    private func offset(of needle: String, in text: String) -> Int {
        let bytes = Array(text.utf8)
        let pattern = Array(needle.utf8)
        return (0...bytes.count - pattern.count).first { bytes[$0..<$0 + pattern.count].elementsEqual(pattern) } ?? -1
    }

    @Test func validBaseline() {
        #expect(rejection(valid) == nil)
        #expect(rejection(" \t\r\n" + valid + "\r\n ") == nil)
    }

    @Test func emptyAndNonObjectMessages() {
        #expect(rejection("") == "json: message is empty")
        #expect(rejection(" \n\t ") == "json: message is empty")
        #expect(decoder.decode(UnsafeRawBufferPointer(start: nil, count: 0)) == .failure(EventRejection(path: "json", reason: "message is empty")))
        #expect(rejection("[]") == "json: expected an object at byte 0")
        #expect(rejection("  [" + valid + "]") == "json: expected an object at byte 2")
        #expect(rejection("1") == "json: expected an object at byte 0")
        #expect(rejection("\"x\"") == "json: expected an object at byte 0")
        #expect(rejection("null") == "json: expected an object at byte 0")
        #expect(rejection("{}") == "v: required")
    }

    @Test func byteOrderMark() {
        #expect(rejection("\u{FEFF}" + valid) == "json: byte-order mark not allowed")
        #expect(rejection(" \u{FEFF}" + valid) == "json: unexpected non-ASCII character at byte 1")
    }

    @Test func trailingData() {
        #expect(rejection(valid + " x") == "json: trailing data at byte \(valid.utf8.count + 1)")
        #expect(rejection(valid + valid) == "json: trailing data at byte \(valid.utf8.count)")
        #expect(rejection(valid + "\n" + valid) == "json: trailing data at byte \(valid.utf8.count + 1)")
        #expect(rejection(valid + "\0") == "json: trailing data at byte \(valid.utf8.count)")
    }

    @Test func nonJSONNumbers() {
        let at = offset(of: "1,\"lon\"", in: valid)
        for (number, reason) in [
            ("NaN", "unexpected 'N' at byte \(at)"), ("Infinity", "unexpected 'I' at byte \(at)"),
            ("-Infinity", "invalid number at byte \(at)"), ("01", "invalid number at byte \(at)"),
            ("+1", "unexpected '+' at byte \(at)"), (".5", "unexpected '.' at byte \(at)"),
            ("1.", "invalid number at byte \(at)"), ("1e", "invalid number at byte \(at)"),
            ("1e+", "invalid number at byte \(at)"), ("-", "invalid number at byte \(at)"),
            ("0x1F", "unexpected 'x' at byte \(at + 1)"), ("1.5.2", "unexpected '.' at byte \(at + 3)"),
        ] {
            #expect(rejection(edited("\"lat\":1", "\"lat\":" + number)) == "json: " + reason, "\(number)")
        }
    }

    @Test func trailingCommasAndComments() {
        let object = edited("\"lon\":2}", "\"lon\":2,}")
        #expect(rejection(object) == "json: unexpected '}' at byte \(offset(of: "2,}", in: object) + 2)")
        let array = edited("\"vessel\":\"V\"", "\"vessel\":\"V\",\"x\":[1,]")
        #expect(rejection(array) == "json: unexpected ']' at byte \(offset(of: ",]", in: array) + 1)")
        let comment = edited("{\"v\"", "{/* c */\"v\"")
        #expect(rejection(comment) == "json: unexpected '/' at byte 1")
        #expect(rejection(edited("\"v\":1,", "\"v\":1,,")) == "json: unexpected ',' at byte 7")
        #expect(rejection(edited("\"v\":1", "\"v\" 1")) == "json: unexpected '1' at byte 5")
        #expect(rejection(edited("\"v\":1", "v:1")) == "json: unexpected 'v' at byte 1")
        #expect(rejection(edited("\"v\":1", "'v':1")) == "json: unexpected ''' at byte 1")
        #expect(rejection(edited("\"ais\"", "\"ais\"")) == nil)
    }

    @Test func literalsAreExact() {
        let base = edited("\"vessel\":\"V\"", "\"vessel\":\"V\",\"ais\":true")
        #expect(rejection(base) == nil)
        let at = offset(of: "true", in: base)
        #expect(rejection(base.replacing("true", with: "True")) == "json: unexpected 'T' at byte \(at)")
        #expect(rejection(base.replacing("true", with: "tru")) == "json: unexpected ',' at byte \(at + 3)")
        #expect(rejection(base.replacing("true", with: "nul")) == "json: unexpected ',' at byte \(at + 3)")
        #expect(rejection(base.replacing("true", with: "truex")) == "json: unexpected 'x' at byte \(at + 4)")
    }

    @Test func controlCharactersAndNUL() {
        let at = offset(of: "V\"", in: valid)
        #expect(rejection(edited("\"V\"", "\"V\n\"")) == "json: unescaped control character 0x0A in string at byte \(at + 1)")
        #expect(rejection(edited("\"V\"", "\"V\0\"")) == "json: unescaped control character 0x00 in string at byte \(at + 1)")
        #expect(rejection(edited("\"V\"", "\"V\u{7F}\"")) == nil)
        #expect(rejection(edited("\"v\":1", "\"v\":\01")) == "json: unexpected byte 0x00 at byte 5")
        #expect(rejection(edited("\"V\"", #""V\u0000""#)) == nil)
    }

    @Test func escapesAndSurrogates() throws {
        let at = offset(of: "V\"", in: valid) + 1
        #expect(rejection(edited("\"V\"", #""V\ud800""#)) == "json: lone surrogate escape at byte \(at)")
        #expect(rejection(edited("\"V\"", #""V\udc00\ud800""#)) == "json: lone surrogate escape at byte \(at)")
        #expect(rejection(edited("\"V\"", #""V\ud800\u0041""#)) == "json: lone surrogate escape at byte \(at)")
        #expect(rejection(edited("\"V\"", #""V\ud800x""#)) == "json: lone surrogate escape at byte \(at)")
        #expect(rejection(edited("\"V\"", #""V\x41""#)) == "json: invalid escape at byte \(at)")
        #expect(rejection(edited("\"V\"", #""V\u12G4""#)) == "json: invalid escape at byte \(at)")
        #expect(rejection(edited("\"V\"", #""V\U0041""#)) == "json: invalid escape at byte \(at)")
        let event = try decoder.decode(edited("\"V\"", #""\uD83D\uDE00\u00e9\u4e2d""#)).get()
        guard case .vessel(let vessel) = event.body else { throw Failure() }
        #expect(vessel.vessel == "😀é中")
    }

    @Test func escapedKeysAreTheSameKeys() throws {
        #expect(rejection(edited("\"id\"", #""\u0069d""#)) == nil)
        #expect(rejection(edited("\"id\":\"a\"", #""id":"a","\u0069d":"b""#)) == #"json: duplicate key "id""#)
        #expect(rejection(edited("\"vessel\":\"V\"", #""vessel":"V","x\n":1,"x\u000a":2"#)) == #"json: duplicate key "x\u000A""#)
        #expect(rejection(edited("\"vessel\":\"V\"", #""vessel":"V","x\n":1,"x\t":2"#)) == nil)
    }

    @Test func invalidUTF8() {
        func message(_ bytes: [UInt8], at old: String) -> [UInt8] {
            let at = offset(of: old, in: valid)
            var message = Array(valid.utf8)
            message.replaceSubrange(at..<at + old.utf8.count, with: bytes)
            return message
        }
        let at = offset(of: "V\"", in: valid)
        for bad: [UInt8] in [
            [0xFF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80], [0xC3], [0xE2, 0x82], [0xC3, 0x28],
        ] {
            let bytes = message([UInt8(ascii: "V")] + bad + [UInt8(ascii: "\"")], at: "V\"")
            #expect(
                decoder.decode(bytes) == .failure(EventRejection(path: "json", reason: "invalid UTF-8 at byte \(at + 1)")),
                "\(bad)")
        }
        // Valid sequences of every length pass.
        let fine = message(Array("Vé中😀\"".utf8), at: "V\"")
        #expect((try? decoder.decode(fine).get()) != nil)
        // Inside a skipped member too, and in keys.
        let skipped = message(Array(#"V","note":"x"#.utf8) + [0xFE] + Array("\"".utf8), at: "V\"")
        #expect(decoder.decode(skipped) == .failure(EventRejection(path: "json", reason: "invalid UTF-8 at byte \(at + 12)")))
        let key = message(Array(#"V","x"#.utf8) + [0xFF] + Array(#"":1"#.utf8), at: "V\"")
        #expect(decoder.decode(key) == .failure(EventRejection(path: "json", reason: "invalid UTF-8 at byte \(at + 5)")))
        // Outside strings a stray byte is invalid UTF-8 as well.
        var outside = Array(valid.utf8)
        outside.insert(0xFF, at: 1)
        #expect(decoder.decode(outside) == .failure(EventRejection(path: "json", reason: "invalid UTF-8 at byte 1")))
    }

    @Test func duplicateKeysAtEveryLevel() {
        #expect(rejection(edited("\"id\":\"a\"", #""id":"a","id":"a""#)) == #"json: duplicate key "id""#)
        #expect(rejection(edited("\"vessel\":\"V\"", #""vessel":"V","x":1,"y":2,"x":3"#)) == #"json: duplicate key "x""#)
        #expect(rejection(edited("\"lon\":2", #""lon":2,"lat":1"#)) == #"json: duplicate key "lat""#)
        #expect(rejection(edited("\"lon\":2", #""lon":2,"q":{"a":[{"b":1,"b":2}]}"#)) == #"json: duplicate key "b""#)
        // The same key in different objects is fine.
        #expect(rejection(edited("\"lon\":2", #""lon":2,"q":{"lat":[{"lat":1},{"lat":2}]}"#)) == nil)
        // A duplicate of a key of another kind is a duplicate all the same.
        #expect(rejection(edited("\"vessel\":\"V\"", #""vessel":"V","persons":1,"persons":2"#)) == #"json: duplicate key "persons""#)
        // Duplicate `kind`: the first is used to decode, the second is still a duplicate.
        #expect(rejection(edited("\"vessel\":\"V\"", #""vessel":"V","kind":"patrol""#)) == #"json: duplicate key "kind""#)
    }

    @Test func manyKeysStayLinear() {
        let decoder = EventDecoder(limits: .init(maxBytes: 8 << 20))
        func rejection(_ json: String) -> String? {
            guard case .failure(let rejection) = decoder.decode(json) else { return nil }
            return rejection.description
        }
        let count = 100_000
        var members = (0..<count).map { #""k\#($0)":\#($0)"# }
        let clean = edited("\"vessel\":\"V\"", "\"vessel\":\"V\"," + members.joined(separator: ","))
        #expect(rejection(clean) == nil)
        members.append(#""k99999":0"#)
        let duplicated = edited("\"vessel\":\"V\"", "\"vessel\":\"V\"," + members.joined(separator: ","))
        #expect(rejection(duplicated) == #"json: duplicate key "k99999""#)
        let nested = edited("\"lon\":2", "\"lon\":2,\"x\":{" + members.joined(separator: ",") + "}")
        #expect(rejection(nested) == #"json: duplicate key "k99999""#)
    }

    @Test func nestingDepth() {
        func nest(_ depth: Int) -> String {
            edited("\"vessel\":\"V\"", "\"vessel\":\"V\",\"x\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        }
        // The event object is level 1, so 63 arrays inside it reach the limit of 64.
        #expect(rejection(nest(63)) == nil)
        #expect(rejection(nest(64)) == "json: nesting deeper than 64")
        // `position` is level 2: 62 objects inside it reach 64.
        func objects(_ depth: Int) -> String {
            edited("\"lon\":2", "\"lon\":2,\"x\":" + String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth))
        }
        #expect(rejection(objects(62)) == nil)
        #expect(rejection(objects(63)) == "json: nesting deeper than 64")
        #expect(rejection(String(repeating: "[", count: 100_000)) == "json: expected an object at byte 0")
        #expect(rejection("{\"x\":" + String(repeating: "[", count: 100_000)) == "json: nesting deeper than 64")
        #expect(rejection(String(repeating: "{\"a\":", count: 100_000)) == "json: nesting deeper than 64")
    }

    @Test func sizeLimitComesFirst() {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: 10 * 1024 * 1024)
        #expect(decoder.decode(big) == .failure(EventRejection(path: "message", reason: "too large: 10485760 bytes (limit 1048576)")))
        let small = EventDecoder(limits: .init(maxBytes: 64))
        #expect(small.decode(valid) == .failure(EventRejection(path: "message", reason: "too large: \(valid.utf8.count) bytes (limit 64)")))
        let padded = valid + String(repeating: " ", count: 1024 * 1024 - valid.utf8.count)
        #expect(rejection(padded) == nil)
    }

    @Test func truncatedMessages() {
        let bytes = Array(valid.utf8)
        for length in 1..<bytes.count {
            let result = decoder.decode(bytes[..<length])
            guard case .failure(let rejection) = result else {
                Issue.record("prefix of \(length) bytes decoded")
                continue
            }
            #expect(rejection.path == "json")
        }
        #expect(rejection(#"{"v":1"#) == "json: unexpected end of input at byte 6")
        #expect(rejection(#"{"v":1,"id":"ab"#) == "json: unexpected end of input at byte 15")
    }

    @Test func jsonProblemsTakePrecedence() {
        // A contract problem comes first in the bytes, a JSON problem later: the JSON problem is reported.
        let late = edited("\"v\":1", "\"v\":2").replacing("\"lon\":2}", with: "\"lon\":2,}")
        #expect(rejection(late) == "json: unexpected '}' at byte \(offset(of: "2,}", in: late) + 2)")
        #expect(rejection(edited("\"kind\":\"vessel\"", "\"kind\":\"lorry\"") + "x") == "json: trailing data at byte \(valid.utf8.count - 1)")
        #expect(rejection(edited("\"v\":1", "\"v\":2").replacing("\"id\":\"a\"", with: "\"id\":\"a\",\"id\":\"a\"")) == #"json: duplicate key "id""#)
    }

    @Test func firstContractProblemInByteOrder() {
        let two = edited("\"id\":\"a\"", "\"id\":\"\"").replacing("\"lat\":1", with: "\"lat\":100")
        #expect(rejection(two) == "id: must not be empty")
        let reversed = edited("\"vessel\":\"V\"", "\"vessel\":\"\"").replacing("\"v\":1", with: "\"v\":3")
        #expect(rejection(reversed) == "v: unsupported version 3")
        // A missing member is found at the end of its object, after any problem inside it.
        let missing = edited("\"vessel\":\"V\",", "").replacing("\"lat\":1", with: "\"lat\":100")
        #expect(rejection(missing) == "vessel.position.lat: out of range (-90 to 90): 100")
    }

    @Test func prettyPrintedEventsDecode() throws {
        let pretty = "{\r\n  \"v\" : 1,\n\t\"id\": \"a\" ,\"kind\"\n:\"vessel\", \"time\":\"2026-05-03T04:00:00Z\",\n"
            + " \"vessel\" : \"V\" , \"position\" : { \"lat\" : 1 , \"lon\" : 2 } , \"extra\" : [ 1 , { } , [ ] ]\n}\n"
        #expect(try decoder.decode(pretty).get() == decoder.decode(valid).get())
    }
}
