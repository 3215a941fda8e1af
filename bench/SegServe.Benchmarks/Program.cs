using BenchmarkDotNet.Running;
using SegServe.Benchmarks;

// dotnet run -c Release --project bench/SegServe.Benchmarks -- --filter '*'         BenchmarkDotNet stage benchmarks
// dotnet run -c Release --project bench/SegServe.Benchmarks -- make-images --out D   the load test's 512×512 JPEGs
// dotnet run -c Release --project bench/SegServe.Benchmarks -- raw-ort --images D …  the raw ONNX Runtime loop
// dotnet run -c Release --project bench/SegServe.Benchmarks -- probe                  mean stage times inside the whole pipeline
return args.FirstOrDefault() switch
{
    "make-images" => BenchmarkImages.Make(args),
    "raw-ort" => RawOnnxRuntimeLoop.Run(args),
    "probe" => PipelineProbe.Run(),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return 0;
}
