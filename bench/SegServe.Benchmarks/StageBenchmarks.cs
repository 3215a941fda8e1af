using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using SegServe.Inference;
using SegServe.Inference.Decoding;
using SegServe.Inference.Encoding;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Preprocessing;

namespace SegServe.Benchmarks;

/// <summary>
/// The stages of one request with the embedded selfie model on a 512×512 JPEG, each alone, then the whole pipeline,
/// against a raw ONNX Runtime run of the same preprocessed tensor measured in the same run (the baseline).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(StageConfig))]
public class StageBenchmarks
{
    private byte[] _jpeg = [];
    private ImageDecoder _decoder = null!;
    private ModelRepository _repository = null!;
    private SegmentationModel _model = null!;
    private SegmentationPipeline _pipeline = null!;
    private DecodedImage _decoded = null!;
    private InputGeometry _geometry;
    private float[] _tensor = [];
    private float[] _scores = [];
    private ClassMap _map = null!;
    private InferenceSession _rawSession = null!;
    private OrtValue _rawInput = null!;
    private string[] _rawInputNames = [];
    private string[] _rawOutputNames = [];

    [GlobalSetup]
    public void Setup()
    {
        _jpeg = BenchmarkData.Jpeg512();
        var options = new InferenceOptions
        {
            ModelsDirectory = Path.Combine(BenchmarkData.RepositoryRoot, "models"),
            ExecutionProvider = ExecutionProviderPreference.Cpu,
        };
        _decoder = new ImageDecoder(options.Images);
        _repository = new ModelRepository(Options.Create(options), NullLogger<ModelRepository>.Instance);
        _repository.Load();
        if (!_repository.TryGet("selfie", out SegmentationModel? model) || model.Status != ModelStatus.Ready)
        {
            throw new InvalidOperationException($"The selfie model is not ready: {model?.FailureReason}");
        }

        _model = model;

        _pipeline = new SegmentationPipeline(_decoder, TimeProvider.System);
        _decoded = _decoder.DecodeAsync(_jpeg, CancellationToken.None).GetAwaiter().GetResult();
        _geometry = _model.Preprocessor!.Plan(_decoded.Width, _decoded.Height);
        _tensor = new float[ImagePreprocessor.TensorLength(_geometry)];
        _model.Preprocessor.Write(_decoded.Image, _geometry, _tensor);

        using (IDisposableReadOnlyCollection<OrtValue> outputs = _model.Session!.Run(_tensor, _model.InputShape(_geometry, 1)))
        {
            _scores = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        _map = Postprocess();

        // Baseline: ONNX Runtime alone, on the same tensor, with the same session settings (1 intra-op thread).
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _rawSession = new InferenceSession(Path.Combine(options.ModelsDirectory, "selfie", "model.onnx"), sessionOptions);
        _rawInput = OrtValue.CreateTensorValueFromMemory(_tensor, [1, 3, 256, 256]);
        _rawInputNames = ["image"];
        _rawOutputNames = ["mask"];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _map.Dispose();
        _decoded.Dispose();
        _rawInput.Dispose();
        _rawSession.Dispose();
        _repository.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw ORT run (baseline)")]
    public int RawOnnxRuntime()
    {
        using IDisposableReadOnlyCollection<OrtValue> outputs = _rawSession.Run(new RunOptions(), _rawInputNames, [_rawInput], _rawOutputNames);
        return outputs.Count;
    }

    [Benchmark(Description = "decode JPEG 512² → RGB24")]
    public async Task<int> Decode()
    {
        using DecodedImage image = await _decoder.DecodeAsync(_jpeg, CancellationToken.None);
        return image.Width;
    }

    [Benchmark(Description = "preprocess: resize 256² + normalise")]
    public float Preprocess()
    {
        _model.Preprocessor!.Write(_decoded.Image, _geometry, _tensor);
        return _tensor[0];
    }

    [Benchmark(Description = "model run (our wrapper)")]
    public int Inference()
    {
        using IDisposableReadOnlyCollection<OrtValue> outputs = _model.Session!.Run(_tensor, _model.InputShape(_geometry, 1));
        return outputs.Count;
    }

    [Benchmark(Description = "postprocess: bilinear 256²→512² + threshold")]
    public int PostprocessBenchmark()
    {
        using ClassMap map = Postprocess();
        return map.Width;
    }

    [Benchmark(Description = "encode class map PNG")]
    public int Encode() => MapEncoder.EncodeClassMap(_map).Length;

    [Benchmark(Description = "whole pipeline (decode → class map) + PNG")]
    public async Task<int> Pipeline()
    {
        using SemanticSegmentation result = await _pipeline.SegmentAsync(_model, _jpeg, new SegmentOptions(null, null, false), CancellationToken.None);
        return MapEncoder.EncodeClassMap(result.Map).Length;
    }

    private ClassMap Postprocess() => SemanticDecoder.DecodeScores(
        _scores, 1, 256, 256, _geometry, OutputKind.Sigmoid, 2, new SemanticDecodeOptions(Interpolation.Bilinear, 0.5f, false));
}
