#include "common/auth/api_key.h"

#include <string>

#include "gtest/gtest.h"

namespace coop::auth {
namespace {

TEST(Sha256HexTest, EmptyInputGivesTheKnownDigest) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256HexTest, AbcGivesTheFips180Digest) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256HexTest, HashesUtf8BytesAsSha256sumDoes) {
  // printf %s "Қонаев" | sha256sum
  EXPECT_EQ(Sha256Hex("Қонаев"),
            "6ef2776ad9addee75660fd5b8d654faf03e952594fda34c92ffb8ceae6032b06");
}

TEST(Sha256HexTest, HashesEmbeddedNulBytes) {
  EXPECT_NE(Sha256Hex(std::string("a\0b", 3)), Sha256Hex("a"));
}

}  // namespace
}  // namespace coop::auth
