namespace SegServe.Inference; internal static class Placeholder { }
