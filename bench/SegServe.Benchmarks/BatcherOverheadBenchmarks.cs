using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Scheduling;

namespace SegServe.Benchmarks;

/// <summary>
/// The cost the dynamic batcher adds to one request at concurrency 1 (queue, dispatch, hand-back), with a model that
/// does nothing, against calling that model directly.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(StageConfig))]
public class BatcherOverheadBenchmarks
{
    private static readonly long[] s_shape = [4];
    private readonly float[] _input = [1f, 2f, 3f, 4f];
    private readonly NoWorkRunner _runner = new();
    private DynamicBatcher _batcher = null!;

    [GlobalSetup]
    public void Setup() =>
        _batcher = new DynamicBatcher("bench", _runner, new BatchingSettings(8, TimeSpan.Zero, 256, 2), TimeProvider.System);

    [GlobalCleanup]
    public void Cleanup() => _batcher.Dispose();

    [Benchmark(Baseline = true, Description = "model called directly")]
    public float Direct()
    {
        ModelOutput[] outputs = _runner.RunBatch([_input], s_shape);
        using ModelOutput output = outputs[0];
        return output.Data<float>()[0];
    }

    [Benchmark(Description = "through the batcher (queue → batch → answer)")]
    public async Task<float> ThroughBatcher()
    {
        using ModelOutput output = await _batcher.EnqueueAsync(_input, s_shape, TimeProvider.System.GetUtcNow().AddSeconds(30), CancellationToken.None);
        return output.Data<float>()[0];
    }

    private sealed class NoWorkRunner : IBatchRunner
    {
        public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape)
        {
            var outputs = new ModelOutput[inputs.Count];
            for (int i = 0; i < outputs.Length; i++)
            {
                outputs[i] = ModelOutput.Copy(inputs[i].Span, TensorElementType.Float, [1, 4]);
            }

            return outputs;
        }
    }
}
