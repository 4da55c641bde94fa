// The container id rules the CLI and the shim share: what a hostile id
// (from a command line, a ttrpc request or a spec's annotations) must not
// get through.
#include "common/container_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "common/error.h"
#include "tests/support/error_text.h"

namespace vmrt {
namespace {

using test::error_text;
using ::testing::HasSubstr;

TEST(ContainerId, AcceptsWhatRuncAccepts) {
  for (const std::string id : {"a", "Z", "0", "abc-DEF_1.2+3", "a..", "a.", "9-", "x+y"})
    EXPECT_NO_THROW(check_container_id(id)) << id;
  EXPECT_NO_THROW(check_container_id(std::string(1024, 'a')));
}

TEST(ContainerId, RejectsEverythingElseNamingTheId) {
  for (const std::string id : {"", ".", "..", "-a", "_a", "+a", ".a", "a/b", "../a", "../x", "/x",
                               "a b", "a\n", "a:b", "é", "a*"})
    EXPECT_THAT(error_text([&] { check_container_id(id); }),
                HasSubstr("invalid container ID \"" + id + "\""))
        << id;
  EXPECT_THAT(error_text([] { check_container_id(std::string(1025, 'a')); }),
              HasSubstr("invalid container ID"));
}

TEST(ContainerId, RejectsControlCharactersAnywhere) {
  for (const std::string& id :
       {std::string("a\0b", 3), std::string("a\0", 2), std::string("\0", 1), std::string("a\nb"),
        std::string("a\r"), std::string("a\tb"), std::string("a\x7f")})
    EXPECT_THAT(error_text([&] { check_container_id(id); }), HasSubstr("invalid container ID"))
        << id.size();
}

// A ttrpc server answers an Error's errno: EINVAL becomes InvalidArgument.
TEST(ContainerId, TheErrorIsAnInvalidArgument) {
  try {
    check_container_id("../x");
    FAIL() << "accepted ../x";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EINVAL);
  }
}

}  // namespace
}  // namespace vmrt
