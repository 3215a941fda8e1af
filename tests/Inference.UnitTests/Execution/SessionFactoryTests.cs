using SegServe.Inference.Execution;

namespace SegServe.Inference.UnitTests.Execution;

public sealed class SessionFactoryTests
{
    [Fact]
    public void CudaProviderOptions_Defaults_AreOnnxRuntimeNames()
    {
        Dictionary<string, string> settings = SessionFactory.CudaProviderOptions(new CudaOptions(), deviceId: 1);

        Assert.Equal("1", settings["device_id"]);
        Assert.Equal("kNextPowerOfTwo", settings["arena_extend_strategy"]);
        Assert.Equal("EXHAUSTIVE", settings["cudnn_conv_algo_search"]);
        Assert.False(settings.ContainsKey("gpu_mem_limit"));
    }

    [Fact]
    public void CudaProviderOptions_Configured()
    {
        var cuda = new CudaOptions
        {
            ArenaExtendStrategy = CudaArenaExtendStrategy.SameAsRequested,
            CudnnConvAlgoSearch = CudnnConvAlgoSearch.Heuristic,
            MemoryLimitBytes = 2L << 30,
        };

        Dictionary<string, string> settings = SessionFactory.CudaProviderOptions(cuda, deviceId: 0);

        Assert.Equal("kSameAsRequested", settings["arena_extend_strategy"]);
        Assert.Equal("HEURISTIC", settings["cudnn_conv_algo_search"]);
        Assert.Equal("2147483648", settings["gpu_mem_limit"]);
    }

    [Fact]
    public void CudaProviderOptions_AreAcceptedByOnnxRuntime()
    {
        // The names and values must be ones ONNX Runtime knows: it rejects unknown keys or values.
        // ONNX Runtime loads the CUDA provider library to read them, so this runs only where CUDA is installed.
        _ = Microsoft.ML.OnnxRuntime.OrtEnv.Instance();
        string text;
        try
        {
            using var options = new Microsoft.ML.OnnxRuntime.OrtCUDAProviderOptions();
            options.UpdateOptions(SessionFactory.CudaProviderOptions(new CudaOptions { MemoryLimitBytes = 1L << 30 }, 0));
            text = options.GetOptions();
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex) when (ex.Message.Contains("Failed to load library", StringComparison.Ordinal))
        {
            Assert.Skip($"The CUDA provider cannot load on this machine: {ex.Message}");
            return;
        }

        Assert.Contains("cudnn_conv_algo_search=EXHAUSTIVE", text, StringComparison.Ordinal);
    }
}
