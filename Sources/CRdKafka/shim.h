// librdkafka >= 2.1 (see ops/setup.sh for why not Debian 12's 2.0.2).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
