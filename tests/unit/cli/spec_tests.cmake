vmrt_gtest(unit_cli_spec unit
  SOURCES spec_test.cpp features_test.cpp
  LIBS vmrt_cli_spec)
