import Foundation
import KordonService
import KordonTestSupport
import Synchronization
import Testing

private struct Response {
    var status: Int
    var head: String
    var body: String

    init?(_ text: String?) {
        guard let text, let blank = text.range(of: "\r\n\r\n"), let status = Int(text.dropFirst("HTTP/1.1 ".count).prefix(3))
        else { return nil }
        self.status = status
        head = String(text[..<blank.lowerBound])
        body = String(text[blank.upperBound...])
    }
}

private func exchange(_ port: UInt16, _ request: String) throws -> Response {
    let client = try #require(LoopbackClient(port: port))
    client.send(request)
    return try #require(Response(client.receiveAll()))
}

private func get(_ port: UInt16, _ path: String) throws -> Response {
    try exchange(port, "GET \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n")
}

struct HTTPStatusServerTests {
    @Test func servesMetricsHealthAndReadiness() throws {
        let registry = MetricsRegistry()
        registry.counter("kordon_events_total", help: "Events.", labels: ["kind": "crossing"]).add(5)
        let notReady = Mutex<String?>("no partitions assigned yet")
        let server = try HTTPStatusServer(registry: registry) { notReady.withLock { $0 } }
        defer { server.stop() }
        #expect(server.port != 0)

        let metrics = try get(server.port, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.head.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(metrics.head.contains("Connection: close"))
        #expect(metrics.head.contains("Content-Length: \(metrics.body.utf8.count)"))
        #expect(metrics.body == registry.render())
        #expect(metrics.body.contains("kordon_events_total{kind=\"crossing\"} 5\n"))

        let health = try get(server.port, "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")

        let waiting = try get(server.port, "/readyz")
        #expect(waiting.status == 503)
        #expect(waiting.body == "no partitions assigned yet\n")
        notReady.withLock { $0 = nil }
        let ready = try get(server.port, "/readyz?verbose=1")
        #expect(ready.status == 200)
        #expect(ready.body == "ok\n")
    }

    @Test func answersUnknownPathsOtherMethodsAndGarbageAndKeepsServing() throws {
        let server = try HTTPStatusServer(registry: MetricsRegistry()) { nil }
        defer { server.stop() }
        #expect(try get(server.port, "/").status == 404)
        #expect(try get(server.port, "/metrics/extra").status == 404)
        let post = try exchange(server.port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        #expect(post.status == 405)
        #expect(post.head.contains("Allow: GET"))
        #expect(try exchange(server.port, "\u{1}\u{2}\u{FF}garbage\r\n\r\n").status == 400)
        #expect(try exchange(server.port, "GET /healthz\r\n\r\n").status == 400)
        #expect(try exchange(server.port, "GET /healthz HTTP/1.1\n\n").status == 200)  // bare line feeds
        #expect(try exchange(server.port, "GET /healthz HTTP/1.1\r\nX: " + String(repeating: "a", count: 20000)).status == 431)
        // Connect and leave at once, or half a request then leave.
        do { _ = LoopbackClient(port: server.port) }
        do { LoopbackClient(port: server.port)?.send("GET /metr") }
        #expect(try get(server.port, "/healthz").status == 200)
    }

    @Test func aSilentClientDelaysNoOneAndIsDropped() throws {
        let server = try HTTPStatusServer(registry: MetricsRegistry(), requestTimeout: .seconds(1)) { nil }
        defer { server.stop() }
        let silent = try #require(LoopbackClient(port: server.port))
        let slow = try #require(LoopbackClient(port: server.port))
        slow.send("GET /healthz HTTP/1.1\r\n")
        let clock = ContinuousClock()
        let started = clock.now
        #expect(try get(server.port, "/healthz").status == 200)
        #expect(clock.now - started < .milliseconds(500))
        // Dropped at the deadline without a response.
        #expect(silent.receiveAll() == "")
        #expect(slow.receiveAll() == "")
        #expect(clock.now - started >= .seconds(1))
        #expect(try get(server.port, "/healthz").status == 200)
    }

    @Test func stopClosesTheListener() throws {
        let server = try HTTPStatusServer(registry: MetricsRegistry()) { nil }
        let idle = try #require(LoopbackClient(port: server.port))
        #expect(try get(server.port, "/healthz").status == 200)
        server.stop()
        #expect(LoopbackClient(port: server.port) == nil)
        #expect(idle.receiveAll() == "")
        server.stop()
    }

    @Test func reportsWhatItCannotListenOn() throws {
        let first = try HTTPStatusServer(registry: MetricsRegistry()) { nil }
        defer { first.stop() }
        let taken = #expect(throws: StatusServerError.self) {
            try HTTPStatusServer(port: first.port, registry: MetricsRegistry()) { nil }
        }
        #expect(taken?.description == "status server: listen on 127.0.0.1 port \(first.port): Address already in use")
        #expect(throws: StatusServerError.self) {
            try HTTPStatusServer(host: "no-such-host.invalid", registry: MetricsRegistry()) { nil }
        }
    }
}
