using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SegServe.Inference;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Benchmarks;

/// <summary>
/// The upper bound the service is compared with: ONNX Runtime alone, <c>session.Run</c> in a closed loop on tensors
/// prepared beforehand (or, with <c>--with-decode</c>, decoding and preprocessing each JPEG first — the work the
/// service cannot avoid), with <c>--parallel</c> concurrent loops over one session and <c>--batch</c> images per run.
/// </summary>
/// <remarks>
/// <c>raw-ort --model models/selfie --images DIR --seconds 10 --parallel 2 --batch 1 [--threads 1] [--with-decode] [--json OUT]</c>
/// </remarks>
internal static class RawOnnxRuntimeLoop
{
    public static int Run(string[] args)
    {
        string model = Option(args, "--model") ?? Path.Combine(BenchmarkData.RepositoryRoot, "models", "selfie");
        string images = Option(args, "--images") ?? throw new ArgumentException("--images DIR is required");
        double seconds = double.Parse(Option(args, "--seconds") ?? "10", CultureInfo.InvariantCulture);
        int parallel = int.Parse(Option(args, "--parallel") ?? "1", CultureInfo.InvariantCulture);
        int batch = int.Parse(Option(args, "--batch") ?? "1", CultureInfo.InvariantCulture);
        int threads = int.Parse(Option(args, "--threads") ?? "1", CultureInfo.InvariantCulture);
        bool withDecode = args.Contains("--with-decode");
        string? json = Option(args, "--json");

        ModelManifest manifest = ModelManifest.Parse(File.ReadAllText(Path.Combine(model, "model.json")));
        var preprocessor = new ImagePreprocessor(manifest.Input);
        var decoder = new ImageDecoder(new ImageLimits());
        byte[][] jpegs = [.. Directory.GetFiles(images, "*.jpg").Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
        if (jpegs.Length == 0)
        {
            throw new ArgumentException($"No .jpg files in {images}.");
        }

        // Every image's tensor, prepared once by the service's own decoder and preprocessor.
        InputGeometry geometry = default;
        float[][] tensors = new float[jpegs.Length][];
        for (int i = 0; i < jpegs.Length; i++)
        {
            using DecodedImage decoded = decoder.DecodeAsync(jpegs[i], CancellationToken.None).GetAwaiter().GetResult();
            geometry = preprocessor.Plan(decoded.Width, decoded.Height);
            tensors[i] = new float[ImagePreprocessor.TensorLength(geometry)];
            preprocessor.Write(decoded.Image, geometry, tensors[i]);
        }

        int perImage = ImagePreprocessor.TensorLength(geometry);
        long[] shape = [batch, 3, geometry.InputHeight, geometry.InputWidth];
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(Path.Combine(model, "model.onnx"), sessionOptions);
        string inputName = session.InputNames[0];
        string outputName = manifest.Output.Name ?? session.OutputNames[0];

        var latencies = new List<double>[parallel];
        var counts = new long[parallel];
        using var start = new Barrier(parallel + 1);
        var workers = new Thread[parallel];
        long deadline = 0;
        for (int w = 0; w < parallel; w++)
        {
            int worker = w;
            latencies[w] = [];
            workers[w] = new Thread(() =>
            {
                float[] input = new float[batch * perImage];
                using var runOptions = new RunOptions();
                int next = worker;
                // Warm-up run, outside the measurement.
                Fill(input, ref next);
                RunOnce(session, runOptions, input, shape, inputName, outputName);
                start.SignalAndWait();
                while (Stopwatch.GetTimestamp() < Volatile.Read(ref deadline))
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Fill(input, ref next);
                    RunOnce(session, runOptions, input, shape, inputName, outputName);
                    latencies[worker].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    counts[worker] += batch;
                }
            });
            workers[w].Start();
        }

        void Fill(float[] input, ref int next)
        {
            for (int b = 0; b < batch; b++, next++)
            {
                int index = next % jpegs.Length;
                Span<float> slot = input.AsSpan(b * perImage, perImage);
                if (withDecode)
                {
                    using DecodedImage decoded = decoder.DecodeAsync(jpegs[index], CancellationToken.None).GetAwaiter().GetResult();
                    preprocessor.Write(decoded.Image, geometry, input.AsMemory(b * perImage, perImage));
                }
                else
                {
                    tensors[index].CopyTo(slot);
                }
            }
        }

        Volatile.Write(ref deadline, Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency));
        long begin = Stopwatch.GetTimestamp();
        start.SignalAndWait();
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        double elapsed = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        long imageCount = counts.Sum();
        double[] all = [.. latencies.SelectMany(l => l).Order()];
        var result = new
        {
            mode = withDecode ? "raw-ort-with-decode" : "raw-ort",
            parallel,
            batch,
            intraOpThreads = threads,
            seconds = Math.Round(elapsed, 3),
            images = imageCount,
            imagesPerSecond = Math.Round(imageCount / elapsed, 2),
            runP50Ms = Math.Round(Percentile(all, 0.50), 3),
            runP99Ms = Math.Round(Percentile(all, 0.99), 3),
        };
        string text = JsonSerializer.Serialize(result);
        Console.WriteLine(text);
        if (json is not null)
        {
            File.WriteAllText(json, text + Environment.NewLine);
        }

        return 0;
    }

    private static void RunOnce(InferenceSession session, RunOptions runOptions, float[] input, long[] shape, string inputName, string outputName)
    {
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [inputName], [value], [outputName]);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
