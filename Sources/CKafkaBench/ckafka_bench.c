#include "ckafka_bench.h"
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ckb_consume(const char *bootstrap, const char *topic, const char *group, int64_t count,
                int timeout_ms, ckb_result *out, char *errstr, size_t errlen) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errlen) ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, errlen) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, errlen) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errlen)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
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

    ckb_result r = {0, 0, 0, 0};
    double start = 0, last = 0, deadline = now_seconds() + timeout_ms / 1000.0;
    while (r.messages < count && now_seconds() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) {
            if (r.messages == 0) start = now_seconds();
            r.messages++;
            r.bytes += (int64_t)m->len;
            r.checksum += m->len + (m->len ? ((const unsigned char *)m->payload)[0] : 0);
            last = now_seconds();
        }
        rd_kafka_message_destroy(m);
    }
    r.seconds = last - start;
    *out = r;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (r.messages < count) {
        snprintf(errstr, errlen, "timed out after %lld of %lld messages", (long long)r.messages, (long long)count);
        return -1;
    }
    return 0;
}
