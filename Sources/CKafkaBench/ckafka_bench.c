#include "ckafka_bench.h"
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <time.h>

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* Times from the assignment, when fetching can start, rather than from the first message, which
   librdkafka may return only after prefetching much of the topic. */
typedef struct {
    double wall;
    double cpu;
} assigned_at;

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *partitions,
                         void *opaque) {
    assigned_at *at = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (at->wall == 0) {
            at->wall = now_seconds();
            at->cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
        }
        rd_kafka_assign(rk, partitions);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

int ckb_consume(const char *bootstrap, const char *topic, const char *group, int64_t count,
                int timeout_ms, ckb_result *out, char *errstr, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errlen) ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, errlen) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, errlen) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errlen) ||
        /* As the daemon's consumer (ClientDefaults): librdkafka 2.0 stops fetching for a second
           whenever its queue holds queued.min.messages (100,000 by default). */
        rd_kafka_conf_set(conf, "queued.min.messages", "1000000", errstr, errlen)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    assigned_at at = {0, 0};
    rd_kafka_conf_set_opaque(conf, &at);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errlen, "subscribe: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return -1;
    }

    ckb_result r = {0, 0, 0, 0, 0};
    double deadline = now_seconds() + timeout_ms / 1000.0, first = 0;
    while (r.messages < count && now_seconds() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) {
            if (r.messages == 0) first = now_seconds();
            r.messages++;
            r.bytes += (int64_t)m->len;
            r.checksum += m->len + (m->len ? ((const unsigned char *)m->payload)[0] : 0);
        }
        rd_kafka_message_destroy(m);
    }
    /* The loop ends at the last message: no clock reads per message (the thread CPU clock is a syscall). */
    double end = now_seconds();
    r.seconds = end - at.wall;
    r.seconds_from_first = end - first;
    r.cpu_seconds = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - at.cpu;
    *out = r;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (r.messages < count) {
        snprintf(errstr, errlen, "timed out after %lld of %lld messages", (long long)r.messages, (long long)count);
        return -1;
    }
    return 0;
}
