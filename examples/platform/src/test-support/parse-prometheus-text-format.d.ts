// The package ships no types; what the tests use of it.
declare module 'parse-prometheus-text-format' {
  const parsePrometheusTextFormat: (text: string) => unknown[];
  export default parsePrometheusTextFormat;
}
