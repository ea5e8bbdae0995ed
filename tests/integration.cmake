# Integration tests: scripts that run the seek binary against the independent oracles. They use Debian's
# /usr/bin/python3 (python3-torch) and node with the packages in tools/*/node_modules. A missing oracle makes a
# test skip (exit 77) on a developer machine and fail in CI (CI=true).
set(SEEK_IT ${CMAKE_SOURCE_DIR}/tests/integration)
set(SEEK_PY /usr/bin/python3)

function(seek_integration_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS integration TIMEOUT 1200
                       ENVIRONMENT "SEEK_QUIET=1")
endfunction()

seek_integration_test(it_cli_errors ${SEEK_PY} ${SEEK_IT}/cli_errors_test.py --seek $<TARGET_FILE:seek>)
seek_integration_test(it_bench_cli ${SEEK_PY} ${SEEK_IT}/bench_cli_test.py --seek $<TARGET_FILE:seek>)
seek_integration_test(it_offline bash ${SEEK_IT}/offline_test.sh $<TARGET_FILE:seek>)
# The oracle comparisons run on optimised builds only: under the sanitizers they add time, not coverage.
if(NOT SEEK_SANITIZE)
  seek_integration_test(it_reference ${SEEK_PY} ${SEEK_IT}/reference_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_llamacpp ${SEEK_PY} ${SEEK_IT}/llamacpp_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_quant_llamacpp ${SEEK_PY} ${SEEK_IT}/quant_llamacpp_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_iq_llamacpp ${SEEK_PY} ${SEEK_IT}/iq_llamacpp_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_embedded_model ${SEEK_PY} ${SEEK_IT}/embedded_model_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_ref_selftest ${SEEK_PY} ${CMAKE_SOURCE_DIR}/tools/ref/test_ref.py)
  seek_integration_test(it_hf_reference ${SEEK_PY} ${SEEK_IT}/hf_reference_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_hf_memory ${SEEK_PY} ${SEEK_IT}/hf_memory_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_gen_model_vocab ${SEEK_PY} ${SEEK_IT}/gen_model_vocab_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_hf_ref_selftest ${SEEK_PY} ${CMAKE_SOURCE_DIR}/tools/ref/test_hf_ref.py)
  seek_integration_test(it_llama_reference ${SEEK_PY} ${SEEK_IT}/llama_reference_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_llama_llamacpp ${SEEK_PY} ${SEEK_IT}/llama_llamacpp_test.py --seek $<TARGET_FILE:seek>)
  # The optimised build's kernels keep their sums in registers (the sanitizers' code is another matter).
  seek_integration_test(it_kernel_codegen ${SEEK_PY} ${SEEK_IT}/kernel_codegen_test.py --seek $<TARGET_FILE:seek>)
endif()

# seek serve and seek chat (tests/integration/server_*.py; node clients in tools/server-test). The HTTP, chat and
# load tests also run under the sanitizers: the server's clean exit after them is the leak check.
seek_integration_test(it_server_http ${SEEK_PY} ${SEEK_IT}/server_http_test.py --seek $<TARGET_FILE:seek>)
seek_integration_test(it_server_chat ${SEEK_PY} ${SEEK_IT}/server_chat_test.py --seek $<TARGET_FILE:seek>)
seek_integration_test(it_server_load ${SEEK_PY} ${SEEK_IT}/server_load_test.py --seek $<TARGET_FILE:seek>)
if(NOT SEEK_SANITIZE)
  seek_integration_test(it_server_openai ${SEEK_PY} ${SEEK_IT}/server_openai_test.py --seek $<TARGET_FILE:seek>)
  seek_integration_test(it_server_web ${SEEK_PY} ${SEEK_IT}/server_web_test.py --seek $<TARGET_FILE:seek>)
endif()
