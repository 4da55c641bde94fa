vmrt_gtest(unit_sandbox unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sandbox_unit_test.cpp ${CMAKE_CURRENT_LIST_DIR}/host_kvm_test.cpp
  LIBS vmrt_sandbox)
