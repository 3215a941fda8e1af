using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SegServe.Inference;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;

namespace SegServe.Benchmarks;

/// <summary>Mean time of each stage inside the whole pipeline (selfie, 512² JPEG, 500 requests one after another), where caches are shared.</summary>
internal static class PipelineProbe
{
    public static int Run()
    {
        var options = new InferenceOptions { ModelsDirectory = Path.Combine(BenchmarkData.RepositoryRoot, "models"), ExecutionProvider = ExecutionProviderPreference.Cpu };
        var decoder = new ImageDecoder(options.Images);
        using var repository = new ModelRepository(Options.Create(options), NullLogger<ModelRepository>.Instance);
        repository.Load();
        repository.TryGet("selfie", out SegmentationModel? model);
        var pipeline = new SegmentationPipeline(decoder, TimeProvider.System);
        byte[] jpeg = BenchmarkData.Jpeg512();
        double[] sums = new double[7];
        for (int i = 0; i < 600; i++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            using SemanticSegmentation result = pipeline.SegmentAsync(model!, jpeg, new SegmentOptions(null, null, false), CancellationToken.None).GetAwaiter().GetResult();
            double total = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (i >= 100)
            {
                StageDurations d = result.Timer.ToDurations();
                sums[0] += d.DecodeMs; sums[1] += d.PreprocessMs; sums[2] += d.QueueMs; sums[3] += d.InferenceMs; sums[4] += d.PostprocessMs; sums[5] += total;
            }
        }

        Console.WriteLine($"decode {sums[0] / 500:0.000} preprocess {sums[1] / 500:0.000} queue {sums[2] / 500:0.000} inference {sums[3] / 500:0.000} post {sums[4] / 500:0.000} wall {sums[5] / 500:0.000}");
        return 0;
    }
}
