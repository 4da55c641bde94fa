// Which configuration file the shim makes a pod's VM with: a CRI runtime
// handler's ConfigPath option, else VMRT_CONFIG.

#include "shim/runtime_options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "common/error.h"
#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"

namespace vmrt::shim {
namespace {

google::protobuf::Any options_any(const std::string& type_url, const std::string& path) {
  runtimeoptions::v1::Options o;
  o.set_config_path(path);
  google::protobuf::Any any;
  any.set_type_url(type_url);
  any.set_value(o.SerializeAsString());
  return any;
}

// Sets VMRT_CONFIG for one test, restoring what was there.
class ConfigEnv {
 public:
  explicit ConfigEnv(const char* value) {
    if (const char* old = std::getenv("VMRT_CONFIG")) old_ = old;
    value ? ::setenv("VMRT_CONFIG", value, 1) : ::unsetenv("VMRT_CONFIG");
  }
  ~ConfigEnv() { old_ ? ::setenv("VMRT_CONFIG", old_->c_str(), 1) : ::unsetenv("VMRT_CONFIG"); }

 private:
  std::optional<std::string> old_;
};

TEST(RuntimeOptions, ConfigPathAsContainerdNamesTheType) {
  EXPECT_EQ(config_path_option(options_any("runtimeoptions.v1.Options", "/etc/vmrt/cold.toml")),
            "/etc/vmrt/cold.toml");
  EXPECT_EQ(config_path_option(
                options_any("type.googleapis.com/runtimeoptions.v1.Options", "/etc/a.toml")),
            "/etc/a.toml");
}

TEST(RuntimeOptions, NoneOrAnotherTypeGiveNoPath) {
  EXPECT_EQ(config_path_option(google::protobuf::Any{}), "");
  // runc's options: a different message whose field 2 must not be read as a path.
  EXPECT_EQ(config_path_option(options_any("containerd.runc.v1.Options", "/x")), "");
  EXPECT_EQ(config_path_option(options_any("runtimeoptions.v1.Options", "")), "");
}

TEST(RuntimeOptions, OptionsThatDoNotParseAreAnError) {
  google::protobuf::Any any;
  any.set_type_url("runtimeoptions.v1.Options");
  any.set_value("\x12\x7f/short");  // a string field longer than the bytes left
  try {
    config_path_option(any);
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runtimeoptions.v1.Options"), std::string::npos)
        << e.what();
  }
}

TEST(RuntimeOptions, TheOptionWinsOverTheEnvironment) {
  ConfigEnv env("/env.toml");
  EXPECT_EQ(runtime_config_path(options_any("runtimeoptions.v1.Options", "/opt.toml")),
            "/opt.toml");
  EXPECT_EQ(runtime_config_path(google::protobuf::Any{}), "/env.toml");
}

TEST(RuntimeOptions, NeitherMeansTheDefaultFile) {
  ConfigEnv env(nullptr);
  EXPECT_EQ(runtime_config_path(google::protobuf::Any{}), "");
}

}  // namespace
}  // namespace vmrt::shim
