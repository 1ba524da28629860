#ifndef KORDON_CKAFKA_BENCH_H
#define KORDON_CKAFKA_BENCH_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t messages;
    int64_t bytes;
    /* seconds from the partition assignment to the last message */
    double seconds;
    /* seconds from the first message to the last: how fast what librdkafka fetched is drained */
    double seconds_from_first;
    /* CPU seconds of the consuming thread over the same span (librdkafka's own threads excluded) */
    double cpu_seconds;
    /* sum of payload lengths and first bytes, so the payloads are really read */
    uint64_t checksum;
} ckb_result;

/* The plain C reference loop: joins a new consumer group on `topic`, then reads `count` messages
   with rd_kafka_consumer_poll, touching each payload and destroying each message at once.
   Timed from the assignment to the last message.
   Returns 0, or -1 with a reason in errstr. */
int ckb_consume(const char *bootstrap, const char *topic, const char *group, int64_t count,
                int timeout_ms, ckb_result *out, char *errstr, size_t errlen);

#endif
