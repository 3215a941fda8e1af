using BenchmarkDotNet.Attributes;
using SegServe.Inference.Decoding;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Benchmarks;

/// <summary>
/// The decoder on a many-class model: 21 VOC logits at 128×128 (a stride-4 head) back to a 512×512 photo, by each
/// resampler, with and without the confidence map.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(StageConfig))]
public class ScoreUpsampleBenchmarks
{
    private const int Classes = 21;
    private const int Side = 128;
    private float[] _logits = [];
    private InputGeometry _geometry;

    [Params(Interpolation.Nearest, Interpolation.Bilinear, Interpolation.Bicubic)]
    public Interpolation Method { get; set; }

    [Params(false, true)]
    public bool Confidence { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _logits = new float[Classes * Side * Side];
        for (int i = 0; i < _logits.Length; i++)
        {
            _logits[i] = (float)((random.NextDouble() * 8) - 4);
        }

        _geometry = new InputGeometry(512, 512, 512, 512, 0, 0, 512, 512);
    }

    [Benchmark(Description = "21 classes 128²→512² + argmax")]
    public int Decode()
    {
        using ClassMap map = SemanticDecoder.DecodeScores(
            _logits, Classes, Side, Side, _geometry, OutputKind.Logits, Classes, new SemanticDecodeOptions(Method, 0.5f, Confidence));
        return map.Width;
    }
}
