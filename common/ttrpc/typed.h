#pragma once
// Typed calls and handlers over generated protobuf messages, so that shim
// code reads as "Task.Create takes CreateTaskRequest, returns
// CreateTaskResponse" rather than handling bytes.

#include <string>
#include <string_view>
#include <utility>

#include "common/ttrpc/client.h"
#include "common/ttrpc/server.h"
#include "common/ttrpc/status.h"

namespace vmrt::ttrpc {

// Registers `fn(const Context&, const Request&) -> Response` as
// service/method. A payload that does not parse as Request is answered
// INTERNAL, as Go's ttrpc does.
template <typename Request, typename Response, typename Fn>
void add_typed_method(Server& server, const std::string& service, const std::string& method,
                      Fn fn) {
  server.add_method(service, method,
                    [fn = std::move(fn)](const Context& context, std::string_view payload) {
                      Request request;
                      if (!request.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
                        fail_status(Code::Internal, "ttrpc: cannot parse {} ({} bytes)",
                                    request.GetTypeName(), payload.size());
                      Response response = fn(context, request);
                      return response.SerializeAsString();
                    });
}

// Calls service/method with `request` and parses the answer as Response;
// throws StatusError as Client::call does, INTERNAL when the answer does not
// parse.
template <typename Response, typename Request>
Response call_typed(Client& client, const std::string& service, const std::string& method,
                    const Request& request, const CallOptions& options = {}) {
  std::string bytes = client.call(service, method, request.SerializeAsString(), options);
  Response response;
  if (!response.ParseFromString(bytes))
    fail_status(Code::Internal, "ttrpc: cannot parse {} ({} bytes) from {}/{}",
                response.GetTypeName(), bytes.size(), service, method);
  return response;
}

}  // namespace vmrt::ttrpc
