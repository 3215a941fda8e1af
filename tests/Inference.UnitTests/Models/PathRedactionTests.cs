using SegServe.Inference.Models;

namespace SegServe.Inference.UnitTests.Models;

public sealed class PathRedactionTests
{
    [Theory]
    [InlineData("Load model from /tmp/segserve-models-a1/not-onnx/model.onnx failed:Protobuf parsing failed.", "Load model from model.onnx failed:Protobuf parsing failed.")]
    [InlineData("Failed to load library /app/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file", "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file")]
    [InlineData(@"cannot open C:\models\selfie\model.onnx", "cannot open model.onnx")]
    [InlineData("'/work/a/b.json' is missing", "'b.json' is missing")]
    public void AbsolutePaths_AreCutToTheirFileName(string message, string expected) => Assert.Equal(expected, PathRedaction.Redact(message));

    [Theory]
    [InlineData("model.json names the model 'x' but its folder is 'y'.")]
    [InlineData("GET /v1/models lists the models.")]
    [InlineData("Input 'image' [1,3,256,256] has 3 channel(s) on axis 1.")]
    [InlineData("see https://onnxruntime.ai/docs/execution-providers/CUDA-ExecutionProvider.html")]
    public void OtherText_IsLeftAlone(string message) => Assert.Equal(message, PathRedaction.Redact(message));
}
