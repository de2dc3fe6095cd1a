/** FFM bindings to the Linux calls jnic needs. */
module io.jnic.sys {
    exports io.jnic.sys;
}
