import KafkaIO
