/**
 * Server reflection fed from the generated file descriptors, so grpcurl and
 * other generic clients can discover our services without .proto files.
 */
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

function withDependencies(files: DescFile[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  files.forEach(visit);
  return [...seen.values()];
}

/** Adds grpc.reflection.v1 and v1alpha, describing `services` and what they import. */
export function addReflection(server: grpc.Server, services: DescService[]): void {
  const files = withDependencies(services.map((s) => s.file));
  const fileDescriptorProtos = files.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  // @grpc/reflection reads `fileDescriptorProtos` off any entry of a proto-loader package definition.
  const packageDefinition = { descriptors: { format: "Protocol Buffer 3 DescriptorProto", type: {}, fileDescriptorProtos } };
  const reflection = new ReflectionService(packageDefinition as never, { services: services.map((s) => s.typeName) });
  reflection.addToServer(server);
}
