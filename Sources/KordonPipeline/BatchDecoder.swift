import Dispatch
import Foundation
import KordonEvents
import KordonKafka
import Synchronization

/// Decodes a polled batch on a thread of its own while the pipeline's thread runs the engine on the
/// batch before: decoding is about a fifth of the work per event, and the engine, whose state is
/// one, cannot be spread over threads. One batch at a time, handed over and taken back in order.
final class BatchDecoder: @unchecked Sendable {
    /// A batch with each message's event, or why it was rejected (nil: no value, a tombstone).
    /// The events are moved out as they are taken, not copied.
    final class Decoded: @unchecked Sendable {
        let batch: KafkaMessageBatch
        private let results: UnsafeMutablePointer<Result<Event, EventRejection>?>
        private var taken = 0

        fileprivate init(_ batch: KafkaMessageBatch, _ decoder: EventDecoder) {
            self.batch = batch
            results = .allocate(capacity: batch.count)
            for (index, message) in batch.enumerated() {
                (results + index).initialize(to: message.value.map { decoder.decode($0) })
            }
        }

        /// The result for message `index`; each is taken once, in order.
        func take(_ index: Int) -> Result<Event, EventRejection>? {
            precondition(index == taken, "results are taken in order, once")
            taken += 1
            return (results + index).move()
        }

        deinit {
            (results + taken).deinitialize(count: batch.count - taken)
            results.deallocate()
        }
    }

    private let decoder: EventDecoder
    private let exchange = Mutex<(input: KafkaMessageBatch?, output: Decoded?, stopping: Bool)>((nil, nil, false))
    private let submitted = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// A batch handed over and not yet taken back; only the pipeline's thread reads and writes it.
    private(set) var busy = false

    init(decoder: EventDecoder) {
        self.decoder = decoder
    }

    /// Starts the thread; `stop` ends it. The pipeline calls both once, as it starts and stops.
    func start() {
        startThread(name: "kordon-decode") { [self] in work() }
    }

    /// Starts decoding `batch`; the previous one must have been taken.
    func submit(_ batch: KafkaMessageBatch) {
        precondition(!busy, "one batch at a time")
        busy = true
        exchange.withLock { $0.input = batch }
        submitted.signal()
    }

    /// The batch handed over last, decoded (waiting for it); nil when none is out.
    func take() -> Decoded? {
        guard busy else { return nil }
        finished.wait()
        busy = false
        return exchange.withLock { state in
            defer { state.output = nil }
            return state.output
        }
    }

    /// Ends the thread, after the batch it is on.
    func stop() {
        exchange.withLock { $0.stopping = true }
        submitted.signal()
    }

    private func work() {
        while true {
            submitted.wait()
            let (input, stopping) = exchange.withLock { state in
                defer { state.input = nil }
                return (state.input, state.stopping)
            }
            guard let input else {
                if stopping { return }
                continue
            }
            let decoded = Decoded(input, decoder)
            exchange.withLock { $0.output = decoded }
            finished.signal()
        }
    }
}
