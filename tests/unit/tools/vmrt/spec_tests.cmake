vmrt_gtest(unit_cli_spec unit
  SOURCES default_spec_test.cpp features_test.cpp
  LIBS vmrt_cli_spec)
