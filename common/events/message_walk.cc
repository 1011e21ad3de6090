#include "common/events/message_walk.h"

#include <vector>

#include "google/protobuf/descriptor.h"

namespace coop::events {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void VisitMessages(const Message& root, absl::FunctionRef<bool(const Message&)> visit) {
  const Reflection* reflection = root.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(root, &fields);  // The fields that are set, by field number.
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(root, field);
      for (int i = 0; i < size; ++i) {
        const Message& element = reflection->GetRepeatedMessage(root, field, i);
        if (visit(element)) VisitMessages(element, visit);
      }
    } else {
      const Message& child = reflection->GetMessage(root, field);
      if (visit(child)) VisitMessages(child, visit);
    }
  }
}

}  // namespace coop::events
