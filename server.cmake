# seek serve / seek chat: the HTTP server and the chat REPL's engine (src/server), linked into `seek` and `test_server`.
# Included at the end of CMakeLists.txt, after the `seek` and test targets exist.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
file(GLOB SEEK_SERVER_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/server/*.cpp)
add_library(seekserver STATIC ${SEEK_SERVER_SOURCES})
target_link_libraries(seekserver PUBLIC seeklib PkgConfig::HTTPLIB)
# The web page's files (web/) are served from the source tree unless --web-dir or $SEEK_WEB_DIR says otherwise.
target_compile_definitions(seekserver PRIVATE SEEK_WEB_DIR="${CMAKE_SOURCE_DIR}/web")
target_link_libraries(seek PRIVATE seekserver)
if(TARGET test_server)
  target_link_libraries(test_server PRIVATE seekserver)
endif()
