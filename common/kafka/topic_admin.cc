#include "common/kafka/topic_admin.h"

#include <algorithm>
#include <array>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/kafka/internal/client_conf.h"
#include "common/kafka/internal/handles.h"
#include "common/kafka/kafka_status.h"
#include "common/status_macros.h"

namespace coop::kafka {

using internal::AdminOptionsHandle;
using internal::ConfigResourceHandle;
using internal::DeleteRecordsHandle;
using internal::DeleteTopicHandle;
using internal::EventHandle;
using internal::KafkaHandle;
using internal::MetadataHandle;
using internal::NewTopicHandle;
using internal::QueueHandle;
using internal::TopicHandle;

namespace {

int RemainingMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

absl::StatusOr<AdminOptionsHandle> MakeOptions(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                               absl::Time deadline) {
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(rk, op));
  std::array<char, 256> err{};
  const int ms = std::max(RemainingMs(deadline), 1);
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), ms, err.data(), err.size()) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat("admin timeout: ", err.data()));
  }
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
      op == RD_KAFKA_ADMIN_OP_DELETERECORDS) {
    // Have the controller wait until the change has propagated before it answers.
    if (rd_kafka_AdminOptions_set_operation_timeout(options.get(), ms, err.data(), err.size()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat("admin timeout: ", err.data()));
    }
  }
  return options;
}

// Waits for the result event of one admin request on `queue`.
absl::StatusOr<EventHandle> AwaitResult(rd_kafka_queue_t* queue, absl::Time deadline,
                                        absl::string_view what) {
  // librdkafka times the request out itself at `deadline` and then answers with the reason;
  // the grace only covers an answer that never comes.
  EventHandle event(rd_kafka_queue_poll(queue, RemainingMs(deadline + absl::Seconds(1))));
  if (event == nullptr) {
    return KafkaErrorToStatus(RD_KAFKA_RESP_ERR__TIMED_OUT,
                              absl::StrCat(what, ": no answer from Kafka in time"));
  }
  if (const rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // The detail often just repeats the error's own text, which the status carries anyway.
    const char* detail = rd_kafka_event_error_string(event.get());
    const bool informative =
        detail != nullptr && absl::string_view(detail) != rd_kafka_err2str(err);
    return KafkaErrorToStatus(err,
                              informative ? absl::StrCat(what, ": ", detail) : std::string(what));
  }
  return event;
}

// Metadata of one topic; NOT_FOUND when the cluster does not know it.
absl::StatusOr<TopicDescription> ReadMetadata(rd_kafka_t* rk, absl::string_view name,
                                              absl::Time deadline) {
  const std::string topic_name(name);
  TopicHandle topic(rd_kafka_topic_new(rk, topic_name.c_str(), nullptr));
  if (topic == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("topic '", name, "': invalid name"));
  }
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, 0, topic.get(), &raw, std::max(RemainingMs(deadline), 1));
  MetadataHandle metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(err, absl::StrCat("metadata of topic '", name, "'"));
  }
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& md = metadata->topics[t];
    if (name != md.topic) continue;
    if (md.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaErrorToStatus(md.err, absl::StrCat("metadata of topic '", name, "'"));
    }
    TopicDescription description;
    description.name = topic_name;
    for (int p = 0; p < md.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& mp = md.partitions[p];
      PartitionDescription partition;
      partition.id = mp.id;
      partition.leader = mp.leader;
      partition.replicas.assign(mp.replicas, mp.replicas + mp.replica_cnt);
      partition.in_sync_replicas.assign(mp.isrs, mp.isrs + mp.isr_cnt);
      description.partitions.push_back(std::move(partition));
    }
    std::sort(description.partitions.begin(), description.partitions.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    return description;
  }
  return absl::NotFoundError(absl::StrCat("topic '", name, "' does not exist"));
}

bool AllPartitionsLed(const TopicDescription& description) {
  return !description.partitions.empty() &&
         std::all_of(description.partitions.begin(), description.partitions.end(),
                     [](const PartitionDescription& p) { return p.leader >= 0; });
}

// Metadata reaches every broker a moment after the controller created the topic; poll until
// each partition has a leader.
absl::StatusOr<TopicDescription> AwaitLedTopic(rd_kafka_t* rk, absl::string_view name,
                                               absl::Time deadline) {
  absl::Status last;
  while (true) {
    absl::StatusOr<TopicDescription> description = ReadMetadata(rk, name, deadline);
    if (description.ok() && AllPartitionsLed(*description)) return description;
    last = description.ok() ? absl::UnavailableError(absl::StrCat(
                                  "topic '", name, "': some partitions have no leader yet"))
                            : description.status();
    const bool transient = last.code() == absl::StatusCode::kNotFound || IsRetriable(last);
    if (!transient || absl::Now() + absl::Milliseconds(100) >= deadline) {
      if (transient) {
        return absl::UnavailableError(absl::StrCat(last.message(), " (timed out)"));
      }
      return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

absl::Status TopicSpec::Validate() const {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("name: '", name, "' must be 1..249 characters and not '.' or '..'"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("name: '", name, "' may hold only A-Z, a-z, 0-9, '.', '_' and '-'"));
    }
  }
  if (partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("partitions: ", partitions, " for topic '", name, "' must be >= 1"));
  }
  if (replication_factor < 1) {
    return absl::InvalidArgumentError(absl::StrCat("replication_factor: ", replication_factor,
                                                   " for topic '", name, "' must be >= 1"));
  }
  return absl::OkStatus();
}

struct TopicAdmin::Impl {
  // The queue must be destroyed before the client it belongs to: members are destroyed in
  // reverse order of declaration.
  KafkaHandle client;
  QueueHandle queue;

  absl::StatusOr<std::map<std::string, std::string>> DescribeConfigs(absl::string_view name,
                                                                     absl::Time deadline) {
    const std::string topic_name(name);
    ConfigResourceHandle resource(
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic_name.c_str()));
    COOP_ASSIGN_OR_RETURN(AdminOptionsHandle options,
                          MakeOptions(client.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, deadline));
    rd_kafka_ConfigResource_t* resources[] = {resource.get()};
    rd_kafka_DescribeConfigs(client.get(), resources, 1, options.get(), queue.get());
    COOP_ASSIGN_OR_RETURN(
        EventHandle event,
        AwaitResult(queue.get(), deadline, absl::StrCat("describe configs of '", name, "'")));
    const rd_kafka_DescribeConfigs_result_t* result =
        rd_kafka_event_DescribeConfigs_result(event.get());
    size_t count = 0;
    const rd_kafka_ConfigResource_t** described =
        rd_kafka_DescribeConfigs_result_resources(result, &count);
    if (count != 1) {
      return absl::InternalError(
          absl::StrCat("describe configs of '", name, "': ", count, " resources returned"));
    }
    if (rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(described[0]);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaErrorToStatus(err, absl::StrCat("describe configs of '", name, "'"));
    }
    size_t entry_count = 0;
    const rd_kafka_ConfigEntry_t** entries =
        rd_kafka_ConfigResource_configs(described[0], &entry_count);
    std::map<std::string, std::string> configs;
    for (size_t i = 0; i < entry_count; ++i) {
      const char* value = rd_kafka_ConfigEntry_value(entries[i]);
      // Sensitive values come back as NULL; they are never ours to compare.
      configs.emplace(rd_kafka_ConfigEntry_name(entries[i]), value != nullptr ? value : "");
    }
    return configs;
  }

  // Configs of a topic that the metadata already showed. Brokers learn of a new topic a moment
  // after the controller created it, and DescribeConfigs goes to any broker, so NOT_FOUND here
  // is that lag: retried until the deadline.
  absl::StatusOr<std::map<std::string, std::string>> DescribeKnownTopicConfigs(
      absl::string_view name, absl::Time deadline) {
    while (true) {
      absl::StatusOr<std::map<std::string, std::string>> configs = DescribeConfigs(name, deadline);
      if (configs.status().code() != absl::StatusCode::kNotFound ||
          absl::Now() + absl::Milliseconds(100) >= deadline) {
        return configs;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  absl::Status CheckExisting(const TopicSpec& spec, absl::Time deadline) {
    COOP_ASSIGN_OR_RETURN(TopicDescription description,
                          AwaitLedTopic(client.get(), spec.name, deadline));
    COOP_ASSIGN_OR_RETURN(description.configs, DescribeKnownTopicConfigs(spec.name, deadline));
    std::vector<std::string> differences;
    if (static_cast<int32_t>(description.partitions.size()) != spec.partitions) {
      differences.push_back(absl::StrCat("partitions is ", description.partitions.size(),
                                         ", wanted ", spec.partitions));
    }
    const int32_t replicas = static_cast<int32_t>(description.partitions.front().replicas.size());
    if (replicas != spec.replication_factor) {
      differences.push_back(
          absl::StrCat("replication factor is ", replicas, ", wanted ", spec.replication_factor));
    }
    for (const auto& [config, wanted] : spec.configs) {
      auto it = description.configs.find(config);
      const std::string actual = it == description.configs.end() ? "<unset>" : it->second;
      if (actual != wanted) {
        differences.push_back(absl::StrCat(config, " is ", actual, ", wanted ", wanted));
      }
    }
    if (!differences.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "topic '", spec.name, "' exists but differs: ", absl::StrJoin(differences, "; "),
          ". Change it with Kafka's tools or choose another topic name."));
    }
    return absl::OkStatus();
  }
};

TopicAdmin::TopicAdmin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TopicAdmin::~TopicAdmin() = default;

absl::StatusOr<std::unique_ptr<TopicAdmin>> TopicAdmin::Create(const KafkaConfig& config) {
  // Describing a topic must never create it, whatever the broker's auto-create setting.
  COOP_ASSIGN_OR_RETURN(internal::ConfHandle conf,
                        internal::MakeConf(config, {{"allow.auto.create.topics", "false"}}));
  auto impl = std::make_unique<Impl>();
  COOP_ASSIGN_OR_RETURN(impl->client, internal::NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  impl->queue.reset(rd_kafka_queue_new(impl->client.get()));
  return std::unique_ptr<TopicAdmin>(new TopicAdmin(std::move(impl)));
}

absl::Status TopicAdmin::EnsureTopics(absl::Span<const TopicSpec> specs, absl::Duration timeout) {
  for (const TopicSpec& spec : specs) COOP_RETURN_IF_ERROR(spec.Validate());
  if (specs.empty()) return absl::OkStatus();
  const absl::Time deadline = absl::Now() + timeout;

  std::vector<NewTopicHandle> new_topics;
  std::vector<rd_kafka_NewTopic_t*> raw_topics;
  for (const TopicSpec& spec : specs) {
    std::array<char, 256> err{};
    NewTopicHandle topic(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                               spec.replication_factor, err.data(), err.size()));
    if (topic == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("topic '", spec.name, "': ", err.data()));
    }
    for (const auto& [name, value] : spec.configs) {
      if (rd_kafka_NewTopic_set_config(topic.get(), name.c_str(), value.c_str()) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::InvalidArgumentError(
            absl::StrCat("topic '", spec.name, "': config ", name, "=", value, " rejected"));
      }
    }
    raw_topics.push_back(topic.get());
    new_topics.push_back(std::move(topic));
  }

  COOP_ASSIGN_OR_RETURN(AdminOptionsHandle options,
                        MakeOptions(impl_->client.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, deadline));
  rd_kafka_CreateTopics(impl_->client.get(), raw_topics.data(), raw_topics.size(), options.get(),
                        impl_->queue.get());
  COOP_ASSIGN_OR_RETURN(EventHandle event,
                        AwaitResult(impl_->queue.get(), deadline, "create topics"));
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);

  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_topic_result_name(results[i]);
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const TopicSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      return absl::InternalError(absl::StrCat("create topics: unexpected result for ", name));
    }
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      COOP_RETURN_IF_ERROR(impl_->CheckExisting(*spec, deadline));
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* detail = rd_kafka_topic_result_error_string(results[i]);
      return KafkaErrorToStatus(err,
                                absl::StrCat("create topic '", name, "'",
                                             detail != nullptr ? absl::StrCat(": ", detail) : ""));
    }
    COOP_RETURN_IF_ERROR(AwaitLedTopic(impl_->client.get(), name, deadline).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<TopicDescription> TopicAdmin::DescribeTopic(absl::string_view name,
                                                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  COOP_ASSIGN_OR_RETURN(TopicDescription description,
                        ReadMetadata(impl_->client.get(), name, deadline));
  COOP_ASSIGN_OR_RETURN(description.configs, impl_->DescribeKnownTopicConfigs(name, deadline));
  return description;
}

absl::StatusOr<std::string> TopicAdmin::ClusterId(absl::Duration timeout) {
  char* id =
      rd_kafka_clusterid(impl_->client.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (id == nullptr) {
    return absl::UnavailableError("cluster id: no answer from Kafka in time");
  }
  std::string result(id);
  rd_kafka_mem_free(impl_->client.get(), id);
  return result;
}

absl::Status TopicAdmin::DeleteTopic(absl::string_view name, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string topic_name(name);
  DeleteTopicHandle topic(rd_kafka_DeleteTopic_new(topic_name.c_str()));
  COOP_ASSIGN_OR_RETURN(AdminOptionsHandle options,
                        MakeOptions(impl_->client.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, deadline));
  rd_kafka_DeleteTopic_t* topics[] = {topic.get()};
  rd_kafka_DeleteTopics(impl_->client.get(), topics, 1, options.get(), impl_->queue.get());
  COOP_ASSIGN_OR_RETURN(EventHandle event, AwaitResult(impl_->queue.get(), deadline,
                                                       absl::StrCat("delete topic '", name, "'")));
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    COOP_RETURN_IF_ERROR(KafkaErrorToStatus(rd_kafka_topic_result_error(results[i]),
                                            absl::StrCat("delete topic '", name, "'")));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> TopicAdmin::DeleteRecordsBefore(absl::string_view topic, int32_t partition,
                                                        int64_t offset, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string topic_name(topic);
  const std::string what =
      absl::StrCat("delete records of ", topic, "[", partition, "] before ", offset);
  internal::PartitionListHandle before(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(before.get(), topic_name.c_str(), partition)->offset = offset;
  DeleteRecordsHandle records(rd_kafka_DeleteRecords_new(before.get()));
  COOP_ASSIGN_OR_RETURN(
      AdminOptionsHandle options,
      MakeOptions(impl_->client.get(), RD_KAFKA_ADMIN_OP_DELETERECORDS, deadline));
  rd_kafka_DeleteRecords_t* requests[] = {records.get()};
  rd_kafka_DeleteRecords(impl_->client.get(), requests, 1, options.get(), impl_->queue.get());
  COOP_ASSIGN_OR_RETURN(EventHandle event, AwaitResult(impl_->queue.get(), deadline, what));
  const rd_kafka_topic_partition_list_t* results =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event.get()));
  if (results == nullptr || results->cnt != 1) {
    return absl::InternalError(absl::StrCat(what, ": no result for the partition"));
  }
  COOP_RETURN_IF_ERROR(KafkaErrorToStatus(results->elems[0].err, what));
  return results->elems[0].offset;
}

}  // namespace coop::kafka
